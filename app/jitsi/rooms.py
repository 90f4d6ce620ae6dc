"""Jitsi room names: unguessable, collision-free, and in the only case Jitsi accepts.

A room name is the call's only secret against outsiders in development mode, and in every mode it
is what a token is bound to, so it carries 128 random bits from `secrets`.
"""

import hashlib
import hmac
import re
import secrets

RANDOM_BYTES = 16  # 128 bits, written as 32 hex digits
PREFIX_MAX_LENGTH = 16
FALLBACK_PREFIX = "ir"

# Lower case only: lib-jitsi-meet refuses conference names with capitals and XMPP case-folds room
# JIDs, so an upper-case name would no longer equal the `room` claim for a literal comparison.
ROOM_NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def sanitize_prefix(prefix: str) -> str:
    """`prefix` reduced to short lower-case `[a-z0-9-]` words, e.g. "IR_E12" -> "ir-e12"."""
    words = re.findall(r"[a-z0-9]+", prefix.lower())
    cleaned = "-".join(words)[:PREFIX_MAX_LENGTH].strip("-")
    return cleaned or FALLBACK_PREFIX


def new_room_name(prefix: str) -> str:
    """A fresh room, e.g. `ir-e12-<32 hex digits>`; the prefix only helps people read logs."""
    return f"{sanitize_prefix(prefix)}-{secrets.token_hex(RANDOM_BYTES)}"


def derived_room_name(secret: str, prefix: str, purpose: str) -> str:
    """A room every page can compute without storing it: `purpose` (e.g. "waiting-room:7")
    signed with the app's secret, 128 bits of it, so nobody without the secret can guess it."""
    digest = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()
    return f"{sanitize_prefix(prefix)}-{digest[: RANDOM_BYTES * 2]}"


def is_valid_room_name(room: str) -> bool:
    return bool(ROOM_NAME_RE.fullmatch(room)) and len(room) <= 100
