"""Shared ground for the call tests (test_jitsi_embed, test_call_events, test_second_camera,
test_jitsi_cli): a selfhosted-mode app, an exam with two panels and real room names, and the
browser-side helpers (parse the embed, report an event, sign a candidate in).

Selfhosted mode runs on an app of its own (`hosted`); development mode is conftest's `app`
(JITSI_DOMAIN unset). Test modules import the two fixtures by name.
"""

from html.parser import HTMLParser

import jwt
import pytest
from flask import render_template
from sqlalchemy import select

from app import create_app, db
from app.models import AuditEvent, Candidate
from tests.conftest import IsolatedClient, StaffActions, csrf_token_from, isolated
from tests.factories import PERSONAL  # noqa: F401  (the call tests import it from here)
from tests.jitsi_rules import ServerRules

DOMAIN = "meet.example.org"
APP_ID = "interview-room"
SECRET = "embed-test-secret-" + "0123456789abcdef" * 2  # 50 bytes: above HS256's minimum
RULES = ServerRules(
    algorithm="HS256",
    key=SECRET,
    accepted_issuers=(APP_ID,),
    accepted_audiences=(APP_ID,),
    domain="meet.jitsi",
)
DEV_BANNER = "开发模式：通话未加密，未使用令牌"


def hosted_config_of(config_class):
    class Hosted(config_class):
        JITSI_DOMAIN = DOMAIN
        JITSI_APP_ID = APP_ID
        JITSI_APP_SECRET = SECRET

    return Hosted


@pytest.fixture
def hosted_config(config_class):
    return hosted_config_of(config_class)


def app_of(config):
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def hosted(_hosted_app):  # conftest.py builds it from hosted_config_of
    """The app in selfhosted mode (built once per run), with conftest's database and Redis
    handling."""
    with isolated(_hosted_app) as app:
        yield app


class _EmbedParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.calls, self.scripts = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and "jitsi-call" in (attrs.get("class") or "").split():
            self.calls.append(attrs)
        if tag == "script":
            self.scripts.append(attrs)


def parse_embeds(html: str) -> _EmbedParser:
    parser = _EmbedParser()
    parser.feed(html)
    return parser


def the_embed(html: str) -> dict:
    found = parse_embeds(html).calls
    assert len(found) == 1, html
    return found[0]


def render_embed(call) -> str:
    return render_template("_jitsi_embed.html", call=call)


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def csrf_token(client) -> str:
    return csrf_token_from(client.get("/calls/phone").get_data(as_text=True))


def sign_in_candidate(client, candidate: Candidate) -> str:
    """Put the candidate's session in the client (as the code page would); return a CSRF token."""
    candidate.session_nonce = "f" * 32
    db.session.commit()
    with client.session_transaction() as session:
        session["candidate_id"] = candidate.id
        session["candidate_nonce"] = "f" * 32
    return csrf_token(client)


def staff_client(app, username):
    """A browser of its own per staff member (no logout page needed); with its CSRF token."""
    client = app.test_client()
    StaffActions(client).login(username)
    return client, csrf_token(client)


def report(
    client, token, event="videoConferenceJoined", kind="interview", room="", url=None, **detail
):
    return client.post(
        url or "/calls/events",
        json={"event": event, "kind": kind, "room": room, "detail": detail},
        headers={"X-CSRFToken": token},
    )


def audit_kinds(candidate_id=None) -> list[str]:
    query = select(AuditEvent.kind).order_by(AuditEvent.id)
    if candidate_id is not None:
        query = query.where(AuditEvent.candidate_id == candidate_id)
    return list(db.session.scalars(query))
