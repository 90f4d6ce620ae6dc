"""The operators' commands: `flask jitsi-token` and `flask jitsi check`.

`check` is run against a real HTTP server on the loopback interface (the settings' script URL is
pointed at it: production only ever asks https://DOMAIN/external_api.js), and once against an
address where nothing listens.
"""

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import click
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app import db
from app.jitsi.rooms import new_room_name
from app.jitsi.tokens import JitsiSettings
from app.redis_conn import close_redis
from tests.jitsi_rules import ServerRules, verify
from tests.jitsi_world import (  # noqa: F401 - fixtures
    APP_ID,
    RULES,
    SECRET,
    app_of,
    hosted,
    hosted_config,
)

TENANT = "vpaas-magic-cookie-0123456789abcdef0123456789abcdef"
STAND_IN_JS = b"/* test */ window.JitsiMeetExternalAPI = function JitsiMeetExternalAPI() {};"


class _JitsiHost(BaseHTTPRequestHandler):
    """/external_api.js like a Jitsi web server, /portal like a captive portal, else 404."""

    asked: list[str] = []

    def do_GET(self):
        type(self).asked.append(self.path)
        if self.path.endswith("/external_api.js"):
            body, status, kind = STAND_IN_JS, 200, "application/javascript"
        elif self.path == "/portal":
            body, status, kind = b"<html>Please sign in to the Wi-Fi</html>", 200, "text/html"
        else:
            body, status, kind = b"not found", 404, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def jitsi_host(monkeypatch):
    """A local web server; `point(path)` makes every JitsiSettings' script URL point at it."""
    _JitsiHost.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JitsiHost)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def point(path: str) -> str:
        url = base + path
        monkeypatch.setattr(JitsiSettings, "external_api_url", property(lambda self: url))
        return url

    yield point
    server.shutdown()
    server.server_close()
    thread.join(5)


def cli_app_of(config):
    """The app as `flask --app wsgi ...` builds it: inside the command line's click context,
    where unusable Jitsi settings only warn (the web server refuses to start with them)."""
    with click.Context(click.Command("flask"), info_name="flask"):
        return app_of(config)


def invoke(app, *args):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.engine.dispose()
    close_redis(app)
    return result


# --- jitsi-token --------------------------------------------------------------------------------


def test_jitsi_token_prints_a_token_jitsi_accepts(hosted):
    room = new_room_name("ir-e1")
    result = hosted.test_cli_runner().invoke(
        args=["jitsi-token", "--room", room, "--name", "运维测试", "--moderator", "--ttl", "600"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    now = int(datetime.now(UTC).timestamp())
    claims = verify(token, RULES, room=room, now=now)
    assert claims["context"]["user"] == {
        "id": "operator",
        "name": "运维测试",
        "moderator": "true",
        "affiliation": "owner",
    }
    assert claims["context"]["features"]["recording"] == "false"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["iss"] == APP_ID and claims["aud"] == APP_ID and claims["sub"] == "meet.jitsi"


def test_jitsi_token_default_is_a_member_for_one_hour(hosted):
    room = new_room_name("ir-e1")
    result = hosted.test_cli_runner().invoke(args=["jitsi-token", "--room", room, "--name", "x"])
    assert result.exit_code == 0, result.output
    claims = verify(result.output.strip(), RULES, room=room, now=int(datetime.now(UTC).timestamp()))
    assert claims["context"]["user"]["moderator"] == "false"
    assert claims["context"]["user"]["affiliation"] == "member"
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    "args,message",
    [
        (["--room", "Not A Room", "--name", "x"], "not a room name"),
        (["--room", "*", "--name", "x"], "not a room name"),
        (["--room", "ROOM", "--name", "x"], "not a room name"),
        (["--name", "x", "--recording"], "moderator"),
        (["--name", "x", "--ttl", "0"], "positive"),
        (["--name", "x", "--ttl", str(7 * 24 * 3600)], "never days"),
        (["--name", "110105199003071234"], "ID or phone"),
    ],
)
def test_jitsi_token_refuses_bad_input_with_a_message(hosted, args, message):
    if "--room" not in args:
        args = ["--room", new_room_name("ir"), *args]
    result = hosted.test_cli_runner().invoke(args=["jitsi-token", *args])
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_jitsi_token_in_development_mode_says_no_tokens(app):
    result = app.test_cli_runner().invoke(
        args=["jitsi-token", "--room", new_room_name("ir"), "--name", "x"]
    )
    assert result.exit_code == 1 and "uses no tokens" in result.output


def test_jitsi_token_for_jaas(hosted_config, _schema, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "jaas.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Jaas(hosted_config):
        JITSI_DOMAIN = None
        JITSI_JAAS_TENANT = TENANT
        JITSI_JAAS_KEY_ID = f"{TENANT}/abc123"
        JITSI_JAAS_PRIVATE_KEY_FILE = str(pem)

    room = new_room_name("ir-e1")
    result = invoke(
        app_of(Jaas), "jitsi-token", "--room", room, "--name", "考官", "--moderator", "--recording"
    )
    assert result.exit_code == 0, result.output
    rules = ServerRules(
        algorithm="RS256",
        key=key.public_key(),
        accepted_issuers=("chat",),
        accepted_audiences=("jitsi",),
        domain=TENANT,
        expected_kid=f"{TENANT}/abc123",
    )
    claims = verify(result.output.strip(), rules, room=room, now=int(datetime.now(UTC).timestamp()))
    assert claims["context"]["features"]["recording"] == "true"


# --- jitsi check --------------------------------------------------------------------------------


def test_jitsi_check_passes_when_configured_and_reachable(hosted, jitsi_host):
    url = jitsi_host("/external_api.js")
    result = hosted.test_cli_runner().invoke(args=["jitsi", "check"])
    assert result.exit_code == 0, result.output
    assert "mode:        selfhosted" in result.output and "app secret:  set" in result.output
    assert f"app id:      {APP_ID}" in result.output and "sub:         meet.jitsi" in result.output
    assert f"external_api.js: OK, HTTP 200 ({url})" in result.output
    assert result.output.rstrip().endswith("reachable")
    assert SECRET not in result.output
    assert _JitsiHost.asked == ["/external_api.js"]


def test_jitsi_check_in_development_mode_says_not_secured(app, jitsi_host):
    jitsi_host("/external_api.js")
    result = app.test_cli_runner().invoke(args=["jitsi", "check"])
    assert result.exit_code == 1
    assert "mode:        dev" in result.output and "domain:      meet.jit.si" in result.output
    assert "NOT secured" in result.output and "external_api.js: OK" in result.output


def test_jitsi_check_in_development_mode_asks_meet_jit_si(app, monkeypatch):
    asked = []

    def refuse(url, timeout):
        asked.append((url, timeout))
        raise __import__("requests").ConnectionError("offline")

    monkeypatch.setattr("app.jitsi.cli.requests.get", refuse)
    result = app.test_cli_runner().invoke(args=["jitsi", "check"])
    assert result.exit_code == 1 and "did not answer: ConnectionError" in result.output
    assert asked == [("https://meet.jit.si/external_api.js", 5)]


def test_jitsi_check_reports_an_http_error(hosted, jitsi_host):
    url = jitsi_host("/missing/external_api.jsx")
    result = hosted.test_cli_runner().invoke(args=["jitsi", "check"])
    assert result.exit_code == 1
    assert f"external_api.js: FAILED, HTTP 404 ({url})" in result.output
    assert f"{url} answered HTTP 404" in result.output


def test_jitsi_check_sees_a_page_that_is_not_the_api(hosted, jitsi_host):
    jitsi_host("/portal")
    result = hosted.test_cli_runner().invoke(args=["jitsi", "check"])
    assert result.exit_code == 1
    assert "not the IFrame API" in result.output and "JitsiMeetExternalAPI missing" in result.output


def test_jitsi_check_reports_an_unreachable_domain_without_the_secret(hosted_config, _schema):
    class Unreachable(hosted_config):
        JITSI_DOMAIN = "127.0.0.1:9"  # nothing listens on the discard port

    result = invoke(app_of(Unreachable), "jitsi", "check")
    assert result.exit_code == 1
    assert "external_api.js: FAILED (https://127.0.0.1:9/external_api.js)" in result.output
    assert "did not answer" in result.output
    assert SECRET not in result.output


def test_jitsi_check_names_missing_settings(hosted_config, _schema, jitsi_host):
    class Incomplete(hosted_config):
        JITSI_APP_SECRET = "too-short"
        JITSI_APP_ID = None

    jitsi_host("/external_api.js")
    result = invoke(cli_app_of(Incomplete), "jitsi", "check")
    assert result.exit_code == 1
    assert "JITSI_APP_SECRET must be at least 32 bytes" in result.output
    assert "JITSI_APP_ID is not set" in result.output
    assert "too-short" not in result.output


def test_jitsi_check_for_jaas_names_the_key_file_not_its_content(
    hosted_config, _schema, jitsi_host, tmp_path
):
    class Jaas(hosted_config):
        JITSI_DOMAIN = None
        JITSI_JAAS_TENANT = TENANT
        JITSI_JAAS_KEY_ID = f"{TENANT}/abc123"
        JITSI_JAAS_PRIVATE_KEY_FILE = str(tmp_path / "absent.pem")

    jitsi_host("/external_api.js")
    result = invoke(cli_app_of(Jaas), "jitsi", "check")
    assert result.exit_code == 1
    assert "mode:        jaas" in result.output and f"tenant:      {TENANT}" in result.output
    assert "cannot read JITSI_JAAS_PRIVATE_KEY_FILE" in result.output
