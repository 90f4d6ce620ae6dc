"""Test support: judge a token the way Jitsi's server would, and say why it refuses.

The rules follow luajwtjitsi (header and time checks), Prosody's token/util.lib.lua (iss, aud,
room claim) and mod_token_verification (room on join), and mod_presence_identity (user values
become XML text). Where Prosody is lenient we are stricter on purpose, and say so:
- `sub` is always checked (Prosody checks it only with enable_domain_verification);
- the room is compared case-sensitively (Prosody lowercases the claim first, JaaS compares
  literally; our rooms are lower case, so an upper-case claim is a bug either way).
Not production code: the app never verifies its own tokens.
"""

import json
from dataclasses import dataclass

import jwt


class TokenRefused(Exception):
    """Jitsi would refuse this token; the message is the reason, worded like Prosody's."""


@dataclass(frozen=True)
class ServerRules:
    algorithm: str  # the one Prosody is configured for (JWT_SIGN_TYPE) or JaaS uses: RS256
    key: object  # the shared secret, or the RSA public key
    accepted_issuers: tuple[str, ...]  # asap_accepted_issuers; "*" accepts any
    accepted_audiences: tuple[str, ...]  # asap_accepted_audiences; "*" accepts any
    domain: str  # expected `sub`: the XMPP domain, or the JaaS tenant
    expected_kid: str | None = None  # JaaS and asap_key_server look the key up by `kid`
    allow_wildcard_room: bool = False


def _is_number(value: object) -> bool:
    # cjson decodes true/false as booleans, which luajwtjitsi rejects as "must be number".
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _accepted(claim: object, accepted: tuple[str, ...]) -> bool:
    return any(item == "*" or claim == item for item in accepted)


def verify(token: str, rules: ServerRules, *, room: str, now: int) -> dict:
    """The claims, if a participant joining `room` at epoch second `now` would be let in."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise TokenRefused("Invalid token") from exc
    if header.get("typ") != "JWT":
        raise TokenRefused("Invalid typ")
    if header.get("alg") != rules.algorithm:
        raise TokenRefused("Invalid or incorrect alg")
    if rules.expected_kid is not None and header.get("kid") != rules.expected_kid:
        raise TokenRefused("'kid' claim is missing or unknown")

    try:
        # Signature only: the claims are judged below with Jitsi's rules, not PyJWT's.
        signed = jwt.PyJWS().decode_complete(token, rules.key, algorithms=[rules.algorithm])
    except jwt.InvalidSignatureError as exc:
        raise TokenRefused("Invalid signature") from exc
    except jwt.PyJWTError as exc:
        raise TokenRefused(f"Invalid token: {exc}") from exc
    try:
        claims = json.loads(signed["payload"])
    except ValueError as exc:
        raise TokenRefused("Invalid body") from exc
    if not isinstance(claims, dict):
        raise TokenRefused("Invalid body")

    for name in ("exp", "nbf"):
        if name in claims and not _is_number(claims[name]):
            raise TokenRefused(f"{name} must be number")
    # No leeway, exactly as luajwtjitsi: os.time() >= exp and os.time() < nbf refuse.
    if "exp" in claims and now >= claims["exp"]:
        raise TokenRefused(f"Not acceptable by exp ({now - claims['exp']} sec since expired)")
    if "nbf" in claims and now < claims["nbf"]:
        raise TokenRefused("Not acceptable by nbf")

    if "iss" not in claims:
        raise TokenRefused("'iss' claim is missing")
    if not _accepted(claims["iss"], rules.accepted_issuers):
        raise TokenRefused("Invalid issuer ('iss' claim)")
    if "room" not in claims:
        raise TokenRefused("'room' claim is missing")
    if "aud" not in claims:
        raise TokenRefused("'aud' claim is missing")
    if not _accepted(claims["aud"], rules.accepted_audiences):
        raise TokenRefused("Invalid audience ('aud' claim)")
    if claims.get("sub") != rules.domain:
        raise TokenRefused(f"'sub' is {claims.get('sub')!r}, expected {rules.domain!r}")

    token_room = claims["room"]
    if token_room == "*":
        if not rules.allow_wildcard_room:
            raise TokenRefused("Room and token mismatched (wildcard room not allowed)")
    elif token_room != room:
        raise TokenRefused("Room and token mismatched")

    user = claims.get("context", {}).get("user", {})
    if not isinstance(user, dict):
        raise TokenRefused("context.user must be an object")
    for key, value in user.items():
        if not isinstance(value, str):
            raise TokenRefused(f"context.user.{key} must be a string, got {type(value).__name__}")
    return claims
