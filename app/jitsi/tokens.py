"""Jitsi settings and the short-lived JWT each person gets for one room.

Self-hosted Jitsi checks tokens in Prosody (mod_auth_token, token/util.lib.lua, luajwtjitsi);
8x8 JaaS checks them against the public key uploaded to its console. Both are strict where
common JWT libraries are lenient, and every rule below that looks pedantic is one of theirs.
See jitsi/README.md for the server side.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import click
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from app.jitsi.rooms import is_valid_room_name

Mode = Literal["dev", "selfhosted", "jaas"]

DEV_DOMAIN = "meet.jit.si"
JAAS_DOMAIN = "8x8.vc"
DEFAULT_TOKEN_SUB = "meet.jitsi"  # docker-jitsi-meet's default XMPP_DOMAIN
JAAS_TENANT_PREFIX = "vpaas-magic-cookie-"

# luajwtjitsi compares nbf and exp with os.time() and allows no leeway: a token minted on a
# clock a few seconds ahead of Prosody's would be "Not acceptable by nbf".
NBF_BACKDATE_SECONDS = 30
# A token is a bearer credential that ends up in the iframe URL: it lives for one call at most.
MAX_TTL_SECONDS = 6 * 3600
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash (256 bits).
MIN_SECRET_BYTES = 32
MIN_RSA_BITS = 2048

# Features a JaaS or Prosody (mod_filter_iq_jibri) backend honours. Prosody allows every feature
# when a token has no `features` at all, so we always send the full list, each "true"/"false".
_ALWAYS_OFF_FEATURES = (
    "livestreaming",
    "transcription",
    "sip-inbound-call",
    "sip-outbound-call",
    "inbound-call",
    "outbound-call",
    "file-upload",
)

# A mainland ID number has 18 characters, a mobile number 11 digits: no display name needs
# 11 digits in a row, so such a run means someone passed personal data instead of "考生 07".
_LONG_DIGIT_RUN = re.compile(r"\d{11,}")


class ConfigError(ValueError):
    """The Jitsi settings cannot produce a token Jitsi would accept."""


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bare_domain(value: str | None) -> str | None:
    # Operators paste URLs; the IFrame API wants a host name.
    if value is None:
        return None
    for scheme in ("https://", "http://"):
        if value.lower().startswith(scheme):
            value = value[len(scheme) :]
    return value.rstrip("/") or None


@dataclass(frozen=True)
class JitsiSettings:
    configured_domain: str | None = None
    app_id: str | None = None
    app_secret: str | None = field(default=None, repr=False)
    audience: str | None = None
    token_sub: str = DEFAULT_TOKEN_SUB
    jaas_tenant: str | None = None
    jaas_key_id: str | None = None
    jaas_private_key_file: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> JitsiSettings:
        """Read the JITSI_* keys of a mapping such as Flask's `app.config`; all are optional."""
        return cls(
            configured_domain=_bare_domain(_clean(config.get("JITSI_DOMAIN"))),
            app_id=_clean(config.get("JITSI_APP_ID")),
            app_secret=_clean(config.get("JITSI_APP_SECRET")),
            audience=_clean(config.get("JITSI_AUDIENCE")),
            token_sub=_clean(config.get("JITSI_TOKEN_SUB")) or DEFAULT_TOKEN_SUB,
            jaas_tenant=_clean(config.get("JITSI_JAAS_TENANT")),
            jaas_key_id=_clean(config.get("JITSI_JAAS_KEY_ID")),
            jaas_private_key_file=_clean(config.get("JITSI_JAAS_PRIVATE_KEY_FILE")),
        )

    @property
    def mode(self) -> Mode:
        if self.jaas_tenant:
            return "jaas"
        if self.configured_domain:
            return "selfhosted"
        return "dev"

    @property
    def domain(self) -> str:
        if self.mode == "jaas":
            return self.configured_domain or JAAS_DOMAIN
        return self.configured_domain or DEV_DOMAIN

    @property
    def secured(self) -> bool:
        """False only in development mode: public meet.jit.si, no tokens, the room name alone."""
        return self.mode != "dev"

    @property
    def external_api_url(self) -> str:
        if self.mode == "jaas":
            return f"https://{self.domain}/{self.jaas_tenant}/external_api.js"
        return f"https://{self.domain}/external_api.js"

    def validate(self) -> None:
        """Raise ConfigError naming every missing or unusable setting (dev mode needs none)."""
        problems: list[str] = []
        if self.mode == "selfhosted":
            if not self.app_id:
                problems.append("JITSI_APP_ID is not set (it must equal JWT_APP_ID in .env)")
            if not self.app_secret:
                problems.append("JITSI_APP_SECRET is not set (it must equal JWT_APP_SECRET)")
            elif len(self.app_secret.encode()) < MIN_SECRET_BYTES:
                problems.append(
                    f"JITSI_APP_SECRET must be at least {MIN_SECRET_BYTES} bytes long (an HS256"
                    " key as long as the hash, RFC 7518 §3.2; e.g. `openssl rand -hex 32`, the"
                    " same value as JWT_APP_SECRET in Jitsi's .env)"
                )
        elif self.mode == "jaas":
            tenant = self.jaas_tenant or ""
            if not tenant.startswith(JAAS_TENANT_PREFIX):
                problems.append(f"JITSI_JAAS_TENANT must be the AppID, '{JAAS_TENANT_PREFIX}…'")
            if not self.jaas_key_id:
                problems.append("JITSI_JAAS_KEY_ID is not set")
            elif not self.jaas_key_id.startswith(f"{tenant}/"):
                problems.append(
                    "JITSI_JAAS_KEY_ID must be the full key id from the console, '<AppID>/<key>'"
                )
            if not self.jaas_private_key_file:
                problems.append("JITSI_JAAS_PRIVATE_KEY_FILE is not set")
        if problems:
            raise ConfigError("Jitsi settings incomplete: " + "; ".join(problems))
        if self.mode == "jaas":
            _load_jaas_private_key(str(self.jaas_private_key_file))  # unreadable key: fail now


def check_at_start(config: Mapping[str, object]) -> None:
    """Refuse to start an app whose Jitsi settings cannot mint a token Jitsi accepts.

    Otherwise the first examiner to open their console would be the first to find out, with a
    500. A `flask` command other than `run` only warns (on stderr), so that `flask jitsi check`
    can explain the problem and `flask db upgrade` still works.
    """
    try:
        JitsiSettings.from_config(config).validate()
    except ConfigError as exc:
        ctx = click.get_current_context(silent=True)
        if ctx is not None and ctx.info_name != "run":
            click.echo(f"warning: {exc} (the web server would refuse to start)", err=True)
            return
        raise ConfigError(
            f"refusing to start: {exc}. Fix the environment; `flask --app wsgi jitsi check`"
            " lists every problem."
        ) from None


def iframe_room_name(settings: JitsiSettings, room: str) -> str:
    """The `roomName` to give the IFrame API: JaaS wants `<tenant>/<room>`, others the bare room.

    The token's `room` claim stays the bare room in both cases (JaaS checks the tenant via `sub`).
    """
    if settings.mode == "jaas":
        return f"{settings.jaas_tenant}/{room}"
    return room


def _load_jaas_private_key(path: str) -> RSAPrivateKey:
    # The path is named in errors, never the file's content.
    try:
        with open(path, "rb") as file:
            pem = file.read()
    except OSError as exc:
        raise ConfigError(
            f"cannot read JITSI_JAAS_PRIVATE_KEY_FILE {path!r}: {exc.strerror}"
        ) from exc
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"JITSI_JAAS_PRIVATE_KEY_FILE {path!r} is not an unencrypted PEM private key"
        ) from exc
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError(f"JITSI_JAAS_PRIVATE_KEY_FILE {path!r} is not an RSA key (RS256)")
    if key.key_size < MIN_RSA_BITS:
        raise ConfigError(f"JITSI_JAAS_PRIVATE_KEY_FILE {path!r} has < {MIN_RSA_BITS} bits")
    return key


def _epoch_seconds(now: datetime | None) -> int:
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return int(now.timestamp())


def _check_ttl(ttl_seconds: int) -> None:
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int):
        raise TypeError("ttl_seconds must be an int")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    if ttl_seconds > MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must not exceed {MAX_TTL_SECONDS} (one call, never days)")


def _user_claims(
    *, user_id: str, name: str, moderator: bool, avatar: str | None, email: str | None
) -> dict[str, str]:
    if not user_id.strip() or not name.strip():
        raise ValueError("user_id and name must not be empty")
    for label, value in (("user_id", user_id), ("name", name), ("email", email or "")):
        if _LONG_DIGIT_RUN.search(re.sub(r"[\s\-+()]", "", value)):
            raise ValueError(f"{label} looks like an ID or phone number; pass a display name")
    # String values only: mod_presence_identity copies each one into an XML text node, and
    # token_affiliation / JaaS compare moderator with the string "true".
    user = {
        "id": user_id,
        "name": name,
        "moderator": "true" if moderator else "false",
        "affiliation": "owner" if moderator else "member",
    }
    # Every participant receives these through presence_identity: send an e-mail only on purpose.
    if avatar:
        user["avatar"] = avatar
    if email:
        user["email"] = email
    return user


def _feature_claims(*, recording: bool) -> dict[str, str]:
    features = {"recording": "true" if recording else "false"}
    features.update(dict.fromkeys(_ALWAYS_OFF_FEATURES, "false"))
    return features


def mint_token(
    settings: JitsiSettings,
    *,
    room: str,
    user_id: str,
    name: str,
    moderator: bool,
    recording: bool,
    ttl_seconds: int,
    avatar: str | None = None,
    email: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """A JWT for one person in one room, or None in development mode (meet.jit.si takes none).

    `ttl_seconds` is the call's remaining time plus a margin: Jitsi checks the token again when a
    dropped browser reconnects, so it must outlive the call, but nothing more.
    """
    _check_ttl(ttl_seconds)
    if not is_valid_room_name(room):
        # Never "*": a token for every room would let a candidate enter any panel's call.
        raise ValueError(f"not a room name from new_room_name(): {room!r}")
    if recording and not moderator:
        # JaaS: "a participant needs to be moderator as a prerequisite to enable feature
        # permissions"; Jicofo likewise only lets moderators start Jibri.
        raise ValueError("recording rights require moderator rights")
    if settings.mode == "dev":
        return None
    settings.validate()

    issued_at = _epoch_seconds(now)
    payload: dict[str, object] = {
        "room": room,  # exact, lower case: Prosody's token_verification compares it on join
        "iat": issued_at,
        "nbf": issued_at - NBF_BACKDATE_SECONDS,
        "exp": issued_at + ttl_seconds,
        "context": {
            "user": _user_claims(
                user_id=user_id, name=name, moderator=moderator, avatar=avatar, email=email
            ),
            "features": _feature_claims(recording=recording),
        },
    }
    # luajwtjitsi answers "Invalid typ" to a token without typ "JWT", so it is set explicitly
    # rather than left to the library's default.
    headers: dict[str, str] = {"typ": "JWT"}

    if settings.mode == "jaas":
        assert settings.jaas_private_key_file is not None  # validate() guarantees it
        payload.update(iss="chat", aud="jitsi", sub=settings.jaas_tenant)
        headers["kid"] = str(settings.jaas_key_id)
        key = _load_jaas_private_key(settings.jaas_private_key_file)
        return jwt.encode(payload, key, algorithm="RS256", headers=headers)

    # Prosody: iss must be in asap_accepted_issuers (default: app_id); aud in
    # asap_accepted_audiences (a string, not a list: luajwtjitsi compares with ==); sub is the
    # XMPP domain when JWT_ENABLE_DOMAIN_VERIFICATION is on.
    audience = settings.audience or settings.app_id
    payload.update(iss=settings.app_id, aud=audience, sub=settings.token_sub)
    return jwt.encode(payload, str(settings.app_secret), algorithm="HS256", headers=headers)
