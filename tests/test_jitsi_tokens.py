"""The Jitsi layer on its own: room names, settings, and tokens judged by Jitsi's own rules.

No Flask app: app.jitsi is pure. Time is pinned (`now=` and time-machine), never slept.
"""

import json
import re
import string
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.jitsi import ConfigError, JitsiSettings, iframe_room_name, mint_token, new_room_name
from app.jitsi.rooms import RANDOM_BYTES, sanitize_prefix
from app.jitsi.tokens import MAX_TTL_SECONDS, NBF_BACKDATE_SECONDS
from tests.jitsi_rules import ServerRules, TokenRefused, verify

NOW = datetime(2026, 3, 14, 0, 30, tzinfo=UTC)  # 08:30 in Beijing, an exam morning
NOW_TS = int(NOW.timestamp())
SECRET = "s" * 24 + "-0123456789abcdef"  # 41 bytes: above HS256's 32-byte minimum
APP_ID = "interview-room"
TENANT = "vpaas-magic-cookie-1fc542a3e4414a44b2611668195e2bfe"
KID = f"{TENANT}/4f4910"
ROOM_A = "ir-e12-" + "0a" * 16
ROOM_B = "ir-e12-" + "b1" * 16
TTL = 15 * 60

# (role, moderator, recording) as the routes will pass them.
ROLES = [
    ("candidate", False, False),
    ("assistant", True, True),
    ("chief_examiner", True, True),
    ("examiner", True, False),
]
DISPLAY_NAMES = {
    "candidate": "考生 07",
    "assistant": "面试助理 李",
    "chief_examiner": "主考官",
    "examiner": "考官 2",
}
FEATURE_KEYS = {
    "recording",
    "livestreaming",
    "transcription",
    "sip-inbound-call",
    "sip-outbound-call",
    "inbound-call",
    "outbound-call",
    "file-upload",
}


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_pem(path, key) -> str:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


@pytest.fixture
def selfhosted() -> JitsiSettings:
    return JitsiSettings.from_config(
        {"JITSI_DOMAIN": "meet.example.cn", "JITSI_APP_ID": APP_ID, "JITSI_APP_SECRET": SECRET}
    )


@pytest.fixture
def jaas(tmp_path, rsa_key) -> JitsiSettings:
    return JitsiSettings.from_config(
        {
            "JITSI_JAAS_TENANT": TENANT,
            "JITSI_JAAS_KEY_ID": KID,
            "JITSI_JAAS_PRIVATE_KEY_FILE": _write_pem(tmp_path / "jaas.pem", rsa_key),
        }
    )


@pytest.fixture
def selfhosted_rules() -> ServerRules:
    # docker-jitsi-meet with JWT_APP_ID=interview-room and nothing else: issuers {app_id}.
    return ServerRules(
        algorithm="HS256",
        key=SECRET,
        accepted_issuers=(APP_ID,),
        accepted_audiences=(APP_ID,),
        domain="meet.jitsi",
    )


@pytest.fixture
def jaas_rules(rsa_key) -> ServerRules:
    return ServerRules(
        algorithm="RS256",
        key=rsa_key.public_key(),
        accepted_issuers=("chat",),
        accepted_audiences=("jitsi",),
        domain=TENANT,
        expected_kid=KID,
    )


def _mint(settings, role="candidate", *, room=ROOM_A, ttl=TTL, now=NOW, **overrides):
    moderator, recording = next((m, r) for name, m, r in ROLES if name == role)
    arguments = {
        "room": room,
        "user_id": f"{role}-42",
        "name": DISPLAY_NAMES[role],
        "moderator": moderator,
        "recording": recording,
        "ttl_seconds": ttl,
        "now": now,
    }
    arguments.update(overrides)
    return mint_token(settings, **arguments)


def _decode(token: str, key, algorithm: str, audience: str) -> dict:
    """PyJWT's own full validation, at the pinned time."""
    with time_machine.travel(NOW, tick=False):
        return jwt.decode(token, key, algorithms=[algorithm], audience=audience)


# Room names -----------------------------------------------------------------------------------


def test_room_name_is_prefixed_lower_case_and_carries_128_random_bits():
    room = new_room_name("ir-e12")
    assert room == room.lower()
    assert re.fullmatch(r"ir-e12-[0-9a-f]{32}", room)
    random_part = room.removeprefix("ir-e12-")
    assert RANDOM_BYTES * 8 >= 128
    assert len(random_part) * 4 == 128  # 32 hex digits, 4 bits each
    assert set(random_part) <= set(string.hexdigits.lower())


def test_room_names_do_not_collide():
    names = {new_room_name("ir-e12") for _ in range(1000)}
    assert len(names) == 1000


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("ir-e12", "ir-e12"),
        ("IR_E12", "ir-e12"),
        ("  Exam 12 / 面试 ", "exam-12"),
        ("a" * 40, "a" * 16),
        ("x" * 15 + "-yz", "x" * 15),  # no dangling hyphen after truncation
        ("", "ir"),
        ("面试", "ir"),
    ],
)
def test_prefix_is_sanitized_to_short_lower_case_words(prefix, expected):
    assert sanitize_prefix(prefix) == expected
    assert re.fullmatch(rf"{re.escape(expected)}-[0-9a-f]{{32}}", new_room_name(prefix))


# Settings and modes ---------------------------------------------------------------------------


def test_dev_mode_uses_public_jitsi_without_tokens():
    settings = JitsiSettings.from_config({"JITSI_DOMAIN": "", "JITSI_JAAS_TENANT": None})
    assert settings.mode == "dev"
    assert settings.domain == "meet.jit.si"
    assert settings.secured is False
    assert settings.external_api_url == "https://meet.jit.si/external_api.js"
    assert iframe_room_name(settings, ROOM_A) == ROOM_A
    assert _mint(settings) is None
    settings.validate()  # nothing to configure


def test_selfhosted_mode(selfhosted):
    assert selfhosted.mode == "selfhosted"
    assert selfhosted.domain == "meet.example.cn"
    assert selfhosted.secured is True
    assert selfhosted.token_sub == "meet.jitsi"
    assert selfhosted.external_api_url == "https://meet.example.cn/external_api.js"
    assert iframe_room_name(selfhosted, ROOM_A) == ROOM_A


def test_domain_given_as_url_is_reduced_to_the_host():
    settings = JitsiSettings.from_config({"JITSI_DOMAIN": "https://meet.example.cn/"})
    assert settings.domain == "meet.example.cn"


def test_jaas_mode(jaas):
    jaas.validate()
    assert jaas.mode == "jaas"
    assert jaas.domain == "8x8.vc"
    assert jaas.secured is True
    assert jaas.external_api_url == f"https://8x8.vc/{TENANT}/external_api.js"
    assert iframe_room_name(jaas, ROOM_A) == f"{TENANT}/{ROOM_A}"


def test_secret_is_not_in_the_settings_repr(selfhosted):
    assert SECRET not in repr(selfhosted)


# Token claims for every role and both algorithms ----------------------------------------------


@pytest.mark.parametrize(("role", "moderator", "recording"), ROLES)
def test_selfhosted_token_claims(selfhosted, selfhosted_rules, role, moderator, recording):
    token = _mint(selfhosted, role)

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT"}

    claims = _decode(token, SECRET, "HS256", audience=APP_ID)
    assert claims["iss"] == APP_ID
    assert claims["aud"] == APP_ID
    assert claims["sub"] == "meet.jitsi"
    _assert_common_claims(claims, role, moderator, recording)
    assert verify(token, selfhosted_rules, room=ROOM_A, now=NOW_TS) == claims


@pytest.mark.parametrize(("role", "moderator", "recording"), ROLES)
def test_jaas_token_claims(jaas, jaas_rules, rsa_key, role, moderator, recording):
    token = _mint(jaas, role)

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": KID}

    claims = _decode(token, rsa_key.public_key(), "RS256", audience="jitsi")
    assert claims["iss"] == "chat"
    assert claims["aud"] == "jitsi"
    assert claims["sub"] == TENANT
    _assert_common_claims(claims, role, moderator, recording)
    assert verify(token, jaas_rules, room=ROOM_A, now=NOW_TS) == claims


def _assert_common_claims(claims: dict, role: str, moderator: bool, recording: bool) -> None:
    assert set(claims) == {"iss", "aud", "sub", "room", "iat", "nbf", "exp", "context"}
    assert claims["room"] == ROOM_A
    for name in ("iat", "nbf", "exp"):
        assert type(claims[name]) is int, name
    assert claims["iat"] == NOW_TS
    assert claims["nbf"] == NOW_TS - 30
    assert claims["exp"] == NOW_TS + TTL

    assert set(claims["context"]) == {"user", "features"}
    user = claims["context"]["user"]
    assert user == {
        "id": f"{role}-42",
        "name": DISPLAY_NAMES[role],
        "moderator": "true" if moderator else "false",
        "affiliation": "owner" if moderator else "member",
    }
    features = claims["context"]["features"]
    assert set(features) == FEATURE_KEYS
    assert all(type(value) is str for value in features.values())
    assert features["recording"] == ("true" if recording else "false")
    assert {value for key, value in features.items() if key != "recording"} == {"false"}


def test_candidate_is_never_moderator_nor_recorder(selfhosted):
    claims = _decode(_mint(selfhosted, "candidate"), SECRET, "HS256", audience=APP_ID)
    assert claims["context"]["user"]["moderator"] == "false"
    assert claims["context"]["user"]["affiliation"] == "member"
    assert claims["context"]["features"]["recording"] == "false"


def test_avatar_and_email_are_strings_and_only_sent_when_given(selfhosted, selfhosted_rules):
    token = _mint(
        selfhosted, "assistant", avatar="https://app.example.cn/a.png", email="zhu@example.cn"
    )
    user = verify(token, selfhosted_rules, room=ROOM_A, now=NOW_TS)["context"]["user"]
    assert user["avatar"] == "https://app.example.cn/a.png"
    assert user["email"] == "zhu@example.cn"


def test_audience_and_sub_follow_the_settings(selfhosted_rules):
    settings = JitsiSettings.from_config(
        {
            "JITSI_DOMAIN": "meet.example.cn",
            "JITSI_APP_ID": APP_ID,
            "JITSI_APP_SECRET": SECRET,
            "JITSI_AUDIENCE": "exam-server",
            "JITSI_TOKEN_SUB": "meet.example.cn",
        }
    )
    token = _mint(settings)
    claims = _decode(token, SECRET, "HS256", audience="exam-server")
    assert claims["iss"] == APP_ID
    assert claims["aud"] == "exam-server"
    assert claims["sub"] == "meet.example.cn"

    with pytest.raises(TokenRefused, match="Invalid audience"):
        verify(token, selfhosted_rules, room=ROOM_A, now=NOW_TS)
    rules = ServerRules(
        algorithm="HS256",
        key=SECRET,
        accepted_issuers=(APP_ID,),
        accepted_audiences=("exam-server",),
        domain="meet.example.cn",
    )
    assert verify(token, rules, room=ROOM_A, now=NOW_TS)["aud"] == "exam-server"


def test_clock_defaults_to_now(selfhosted):
    with time_machine.travel(NOW, tick=False):
        claims = jwt.decode(
            _mint(selfhosted, now=None), SECRET, algorithms=["HS256"], audience=APP_ID
        )
    assert claims["iat"] == NOW_TS


# Rooms are bound ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["selfhosted", "jaas"])
def test_token_for_room_a_is_refused_in_room_b(request, mode):
    settings = request.getfixturevalue(mode)
    rules = request.getfixturevalue(f"{mode}_rules")
    token = _mint(settings, "assistant", room=ROOM_A)
    assert verify(token, rules, room=ROOM_A, now=NOW_TS)["room"] == ROOM_A
    with pytest.raises(TokenRefused, match="Room and token mismatched"):
        verify(token, rules, room=ROOM_B, now=NOW_TS)


@pytest.mark.parametrize("room", ["*", "", "IR-E12-" + "0A" * 16, "ir_e12", "tenant/room", "a@b"])
def test_only_exact_lower_case_room_names_are_signed(selfhosted, room):
    with pytest.raises(ValueError, match="not a room name"):
        _mint(selfhosted, room=room)


def test_verifier_refuses_wildcard_and_upper_case_rooms(selfhosted_rules):
    base = {"iss": APP_ID, "aud": APP_ID, "sub": "meet.jitsi", "exp": NOW_TS + 60}
    wildcard = jwt.encode({**base, "room": "*"}, SECRET, algorithm="HS256")
    with pytest.raises(TokenRefused, match="wildcard"):
        verify(wildcard, selfhosted_rules, room=ROOM_A, now=NOW_TS)
    upper = jwt.encode({**base, "room": ROOM_A.upper()}, SECRET, algorithm="HS256")
    with pytest.raises(TokenRefused, match="mismatched"):
        verify(upper, selfhosted_rules, room=ROOM_A, now=NOW_TS)


# Time: exact bounds, no leeway ----------------------------------------------------------------


def test_validity_window_is_exactly_ttl_after_issue_and_30_seconds_before(
    selfhosted, selfhosted_rules
):
    token = _mint(selfhosted, "examiner")
    claims = verify(token, selfhosted_rules, room=ROOM_A, now=NOW_TS)
    assert claims["exp"] - claims["iat"] == TTL
    assert claims["iat"] - claims["nbf"] == NBF_BACKDATE_SECONDS == 30
    assert claims["exp"] - claims["nbf"] == TTL + 30

    # Prosody's clock may lag ours by up to 30 s and still let the participant in...
    assert verify(token, selfhosted_rules, room=ROOM_A, now=NOW_TS - 30)
    with pytest.raises(TokenRefused, match="Not acceptable by nbf"):
        verify(token, selfhosted_rules, room=ROOM_A, now=NOW_TS - 31)
    # ...and the token dies at exp, to the second (luajwtjitsi: os.time() >= exp).
    assert verify(token, selfhosted_rules, room=ROOM_A, now=NOW_TS + TTL - 1)
    with pytest.raises(TokenRefused, match="Not acceptable by exp"):
        verify(token, selfhosted_rules, room=ROOM_A, now=NOW_TS + TTL)


def test_ttl_is_capped_at_one_call_never_days(selfhosted):
    claims = _decode(_mint(selfhosted, ttl=MAX_TTL_SECONDS), SECRET, "HS256", audience=APP_ID)
    assert claims["exp"] - claims["iat"] == MAX_TTL_SECONDS == 6 * 3600
    with pytest.raises(ValueError, match="must not exceed"):
        _mint(selfhosted, ttl=MAX_TTL_SECONDS + 1)
    with pytest.raises(ValueError, match="must not exceed"):
        _mint(selfhosted, ttl=int(timedelta(days=2).total_seconds()))


@pytest.mark.parametrize("ttl", [0, -1, -3600])
def test_non_positive_ttl_is_refused(selfhosted, ttl):
    with pytest.raises(ValueError, match="positive"):
        _mint(selfhosted, ttl=ttl)


@pytest.mark.parametrize("ttl", [True, 60.0, "60"])
def test_ttl_must_be_an_int(selfhosted, ttl):
    with pytest.raises(TypeError):
        _mint(selfhosted, ttl=ttl)


def test_naive_now_is_refused(selfhosted):
    with pytest.raises(ValueError, match="aware"):
        _mint(selfhosted, now=NOW.replace(tzinfo=None))


def test_recording_without_moderator_is_refused(selfhosted):
    with pytest.raises(ValueError, match="moderator"):
        _mint(selfhosted, moderator=False, recording=True)


# No personal data -----------------------------------------------------------------------------

ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.mark.parametrize("mode", ["selfhosted", "jaas"])
def test_no_id_or_phone_number_in_any_token(request, mode):
    settings = request.getfixturevalue(mode)
    for role, _, _ in ROLES:
        token = _mint(settings, role)
        _header, payload_b64, _signature = token.split(".")
        payload = json.loads(jwt.utils.base64url_decode(payload_b64))
        # The room's random hex may contain digit runs by chance; everything else may not.
        payload.pop("room")
        for value in _strings(payload):
            assert not ID_NUMBER.search(value), value
            assert not MOBILE.search(value), value


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "张三 110101199003077777"),
        ("name", "张三 11010119900307777X"),
        ("name", "13800138000"),
        ("name", "138-0013-8000"),
        ("user_id", "110101199003077777"),
        ("email", "13800138000@139.com"),
    ],
)
def test_id_or_phone_numbers_are_refused(selfhosted, field, value):
    with pytest.raises(ValueError, match="ID or phone"):
        _mint(selfhosted, **{field: value})


@pytest.mark.parametrize(("field", "value"), [("name", " "), ("user_id", "")])
def test_empty_identity_is_refused(selfhosted, field, value):
    with pytest.raises(ValueError, match="empty"):
        _mint(selfhosted, **{field: value})


# Incomplete configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"JITSI_APP_SECRET": SECRET}, "JITSI_APP_ID"),
        ({"JITSI_APP_ID": APP_ID}, "JITSI_APP_SECRET is not set"),
        ({"JITSI_APP_ID": APP_ID, "JITSI_APP_SECRET": "short"}, "at least 32 bytes"),
    ],
)
def test_incomplete_selfhosted_config_raises(config, message):
    settings = JitsiSettings.from_config({"JITSI_DOMAIN": "meet.example.cn", **config})
    with pytest.raises(ConfigError, match=message):
        settings.validate()
    with pytest.raises(ConfigError, match=message):
        _mint(settings)


def test_incomplete_jaas_config_raises():
    settings = JitsiSettings.from_config({"JITSI_JAAS_TENANT": TENANT})
    with pytest.raises(ConfigError, match=r"JITSI_JAAS_KEY_ID.*JITSI_JAAS_PRIVATE_KEY_FILE"):
        _mint(settings)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"JITSI_JAAS_TENANT": "my-app"}, "AppID"),
        ({"JITSI_JAAS_KEY_ID": "4f4910"}, "full key id"),
    ],
)
def test_jaas_ids_must_have_their_console_form(tmp_path, rsa_key, config, message):
    settings = JitsiSettings.from_config(
        {
            "JITSI_JAAS_TENANT": TENANT,
            "JITSI_JAAS_KEY_ID": KID,
            "JITSI_JAAS_PRIVATE_KEY_FILE": _write_pem(tmp_path / "k.pem", rsa_key),
            **config,
        }
    )
    with pytest.raises(ConfigError, match=message):
        _mint(settings)


def test_unreadable_or_unusable_jaas_key_file_raises(tmp_path):
    def settings_with(path) -> JitsiSettings:
        return JitsiSettings.from_config(
            {
                "JITSI_JAAS_TENANT": TENANT,
                "JITSI_JAAS_KEY_ID": KID,
                "JITSI_JAAS_PRIVATE_KEY_FILE": str(path),
            }
        )

    with pytest.raises(ConfigError, match="cannot read"):
        settings_with(tmp_path / "missing.pem").validate()  # at start-up, not first call
    with pytest.raises(ConfigError, match="cannot read"):
        _mint(settings_with(tmp_path / "missing.pem"))

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        _mint(settings_with(garbage))

    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ConfigError, match="not an RSA key"):
        _mint(settings_with(_write_pem(tmp_path / "ec.pem", ec_key)))

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ConfigError, match="< 2048 bits"):
        _mint(settings_with(_write_pem(tmp_path / "small.pem", small)))


# The verifier itself refuses what Prosody refuses ---------------------------------------------


def test_verifier_refuses_missing_typ_wrong_alg_bad_signature_and_wrong_sub(
    selfhosted, selfhosted_rules, jaas_rules
):
    base = {"iss": APP_ID, "aud": APP_ID, "sub": "meet.jitsi", "room": ROOM_A, "exp": NOW_TS + 60}
    no_typ = jwt.encode(base, SECRET, algorithm="HS256", headers={"typ": None})
    with pytest.raises(TokenRefused, match="Invalid typ"):
        verify(no_typ, selfhosted_rules, room=ROOM_A, now=NOW_TS)

    with pytest.raises(TokenRefused, match="incorrect alg"):
        verify(_mint(selfhosted), jaas_rules, room=ROOM_A, now=NOW_TS)

    forged = jwt.encode(base, "f" * 40, algorithm="HS256")
    with pytest.raises(TokenRefused, match="Invalid signature"):
        verify(forged, selfhosted_rules, room=ROOM_A, now=NOW_TS)

    public_domain = jwt.encode({**base, "sub": "meet.example.cn"}, SECRET, algorithm="HS256")
    with pytest.raises(TokenRefused, match="'sub'"):
        verify(public_domain, selfhosted_rules, room=ROOM_A, now=NOW_TS)

    no_aud = jwt.encode({k: v for k, v in base.items() if k != "aud"}, SECRET, algorithm="HS256")
    with pytest.raises(TokenRefused, match="'aud' claim is missing"):
        verify(no_aud, selfhosted_rules, room=ROOM_A, now=NOW_TS)

    string_exp = jwt.encode({**base, "exp": str(NOW_TS + 60)}, SECRET, algorithm="HS256")
    with pytest.raises(TokenRefused, match="exp must be number"):
        verify(string_exp, selfhosted_rules, room=ROOM_A, now=NOW_TS)

    numeric_user = jwt.encode(
        {**base, "context": {"user": {"id": 42, "name": "x"}}}, SECRET, algorithm="HS256"
    )
    with pytest.raises(TokenRefused, match=r"context\.user\.id must be a string"):
        verify(numeric_user, selfhosted_rules, room=ROOM_A, now=NOW_TS)
