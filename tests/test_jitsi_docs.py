"""jitsi/: the operators' README names the failure signs the issue lists, and the docker-jitsi-meet
settings file sets what JWT-secured, token-moderated, recorded calls need."""

from pathlib import Path

JITSI = Path(__file__).resolve().parents[1] / "jitsi"


def _env_example() -> dict[str, str]:
    settings = {}
    for line in (JITSI / "docker-jitsi-meet.env.example").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip()
    return settings


def test_readme_lists_the_known_failure_signs_and_where_to_see_them():
    readme = (JITSI / "README.md").read_text(encoding="utf-8")
    troubleshooting = readme[readme.index("Troubleshooting") :]
    for sign in (
        "**wrong `sub`**",
        "'aud' claim is missing",
        "**upper-case room names**",
        "**clock skew**",
        "Not acceptable by nbf",
        "Room and token mismatched",
    ):
        assert sign in troubleshooting, sign
    # How to read Prosody's reason in the browser.
    assert "*Network*" in troubleshooting and "xmpp-websocket" in troubleshooting
    assert "*Messages*" in troubleshooting


def test_readme_covers_the_commands_and_the_modes():
    readme = (JITSI / "README.md").read_text(encoding="utf-8")
    for needle in (
        "flask --app wsgi jitsi check",
        "flask --app wsgi jitsi-token --room",
        "JITSI_DOMAIN",
        "JITSI_APP_ID",
        "JITSI_APP_SECRET",
        "JITSI_TOKEN_SUB",
        "JITSI_JAAS_TENANT",
        "Development mode: calls are NOT",
        "辅机位",
        "_jitsi_embed.html",
    ):
        assert needle in readme, needle


def test_env_example_sets_jwt_auth_token_moderators_and_recording():
    env = _env_example()
    expected = {
        "ENABLE_AUTH": "1",
        "AUTH_TYPE": "jwt",
        "JWT_ALLOW_EMPTY": "0",
        "XMPP_MUC_MODULES": "token_affiliation",
        "ENABLE_AUTO_OWNER": "false",
        "ENABLE_LOBBY": "0",
        "ENABLE_PREJOIN_PAGE": "0",
        "ENABLE_BREAKOUT_ROOMS": "0",
        "ENABLE_RECORDING": "1",
    }
    for key, value in expected.items():
        assert env.get(key) == value, key
    for key in (
        "JWT_APP_ID",
        "JWT_APP_SECRET",
        "JWT_ACCEPTED_ISSUERS",
        "JWT_ACCEPTED_AUDIENCES",
        "JIBRI_FINALIZE_RECORDING_SCRIPT_PATH",
    ):
        assert env.get(key), key
    assert "presence_identity" in env["XMPP_MODULES"].split(",")
    assert env["JIBRI_FINALIZE_RECORDING_SCRIPT_PATH"].endswith("finalize.sh")
