"""佐证/辅机位 end to end through HTTP: the candidate's QR code and bind code, the phone page that
joins the same call as "<name> 辅机位", its presence pings, the staff view, the waiting-room gate
of an exam that requires it, and the guards of the code-only phone routes."""

import json
import re
from datetime import UTC, datetime

import pytest
from flask import render_template
from sqlalchemy import select

from app import db
from app.day.call_status import room_status
from app.day.second_camera import (
    ALPHABET,
    CODE_LENGTH,
    UNKNOWN_CODE_BUDGET_PER_MINUTE,
    ensure_bind_code,
    normalize_code,
)
from app.models import AuditEvent, Candidate
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.conftest import csrf_token_from
from tests.factories import World
from tests.jitsi_rules import verify
from tests.jitsi_world import (  # noqa: F401 - fixtures
    PERSONAL,
    RULES,
    hosted,
    hosted_config,
    report,
    the_embed,
)

CHECK_FIRST = (
    "本场面试要求开启佐证（辅机位）摄像头：辅机位尚未经面试助理核验。"
    "请在调试通话中用手机连接辅机位，由面试助理核验拍摄角度后，方可进入面试等待室。"
)


def fresh(candidate) -> Candidate:
    db.session.expire_all()
    return db.session.get(Candidate, candidate.id)


def debugged(world: World, c: Candidate) -> None:
    """Confirmed, notices read, debug call done: next comes the waiting room."""
    from app.journey import Actor, perform

    me, assistant = world.as_candidate(c), Actor.staff(world.assistant)
    perform(c.id, "confirm", me, world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", me, world.now)
    perform(c.id, "call_debug", assistant, world.now)
    perform(c.id, "accept_debug", me, world.now)
    perform(c.id, "check_identity", assistant, world.now)
    perform(c.id, "mark_debugged", assistant, world.now)


class Phone:
    """The candidate's phone: a browser of its own, holding nothing but the bind code."""

    def __init__(self, app, code: str):
        self.client = app.test_client()
        self.code = code
        self.token = None

    def open(self):
        response = self.client.get(f"/calls/phone/{self.code}")
        if response.status_code == 200:
            self.token = csrf_token_from(response.get_data(as_text=True))
        return response

    def ping(self, camera=None):
        return self.client.post(
            f"/calls/phone/{self.code}/ping",
            data={"camera": camera} if camera else {},
            headers={"X-CSRFToken": self.token, "HX-Request": "true"},
        )

    def call(self, etag=None):
        headers = {"HX-Request": "true"}
        if etag:
            headers["If-None-Match"] = etag
        return self.client.get(f"/calls/phone/{self.code}/call", headers=headers)


def qr_and_code(html: str) -> str:
    assert "<svg" in html and 'class="qr"' in html, html
    match = re.search(r'class="bind-code">([^<]+)<', html)
    assert match, html
    return match.group(1)


def test_the_candidate_sees_the_qr_code_and_the_phone_finds_its_page(app, client):
    world = World(requires_second_camera=True)
    c = world.candidates[0]
    from app.journey import perform

    me_actor = world.as_candidate(c)
    perform(c.id, "confirm", me_actor, world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", me_actor, world.now)
    me = CandidateBrowser(client)
    assert me.enter_code(c.code).status_code == 303
    # The debug queue's page: QR code (inline SVG, no script) and the bind code.
    html = me.html()
    code = qr_and_code(html)
    assert normalize_code(code) == code and len(code) == CODE_LENGTH
    assert "本场面试必须开启辅机位" in html and "未连接" in html
    assert "/calls/phone" in html and c.id_number not in html
    # The phone: the typed code (lower case, spaces) leads to its page.
    phone = Phone(app, code)
    typed = phone.client.get(
        "/calls/phone", query_string={"code": f" {code[:4].lower()} {code[4:]}"}
    )
    assert typed.status_code == 302 and typed.headers["Location"].endswith(f"/calls/phone/{code}")
    page = phone.open()
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    page_html = page.get_data(as_text=True)
    assert "辅机位" in page_html and "等待考生进入视频通话" in page_html
    for secret in (c.name, c.id_number, c.phone):
        assert secret not in page_html
    # Its own report, outside any call, says so and connects nothing.
    ping = phone.ping()
    assert ping.status_code == 200 and "未在通话中" in ping.get_data(as_text=True)
    assert fresh(c).second_camera_seen_at is None


def test_an_exam_without_the_requirement_lets_the_candidate_in(app, client):
    world = World()
    c = world.candidates[0]
    debugged(world, c)
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    me.enter_code(c.code)
    assert fresh(c).state == S.WAITING


def test_the_phone_joins_the_candidates_call_as_the_second_camera(hosted):
    world = World.for_calls(requires_second_camera=True)
    c = world.interviewing(lot=7)
    code = ensure_bind_code(c)
    phone = Phone(hosted, code)
    html = phone.open().get_data(as_text=True)
    attrs = the_embed(html)
    room = world.panel.interview_room
    assert attrs["data-jitsi-room"] == room
    assert attrs["data-jitsi-name"] == "考生 07 辅机位"
    assert attrs["data-jitsi-role"] == "second_camera"
    assert attrs["data-jitsi-audio-muted"] == "true" and attrs["data-jitsi-silent"] == "true"
    assert json.loads(attrs["data-jitsi-toolbar"]) == ["camera", "toggle-camera", "hangup"]
    assert attrs["data-jitsi-events"] == f"/calls/phone/{code}/events"
    claims = verify(
        attrs["data-jitsi-jwt"], RULES, room=room, now=int(datetime.now(UTC).timestamp())
    )
    user = claims["context"]["user"]
    assert user == {
        "id": f"c{c.id}-2",
        "name": "考生 07 辅机位",
        "moderator": "false",
        "affiliation": "member",
    }
    assert claims["context"]["features"]["recording"] == "false"
    for secret in PERSONAL:
        assert secret not in html and secret not in json.dumps(claims, ensure_ascii=False)

    # The polled fragment: 204 while the room is the same (the running call stays), a fresh
    # embed when it changes (the rest room after the interview).
    first = phone.call()
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    etag = first.headers["ETag"]
    assert phone.call(etag).status_code == 204
    c = fresh(c)
    c.state = S.RESTING
    db.session.commit()
    moved = phone.call(etag)
    assert moved.status_code == 200
    assert the_embed(moved.get_data(as_text=True))["data-jitsi-room"] == world.panel.rest_room

    # Its reports are audited as the second camera's and shown to staff.
    assert (
        report(
            phone.client,
            phone.token,
            kind="rest",
            room=world.panel.rest_room,
            url=f"/calls/phone/{code}/events",
        ).status_code
        == 204
    )
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.kind == "call.videoConferenceJoined")
    )
    assert event.candidate_id == c.id and event.data["device"] == "second_camera"
    assert event.data["call_kind"] == "second_camera"
    assert room_status(world.panel.rest_room)["second_camera_in"]
    # ...but not for a room the candidate is not in.
    assert (
        report(
            phone.client,
            phone.token,
            kind="rest",
            room=world.other_panel.rest_room,
            url=f"/calls/phone/{code}/events",
        ).status_code
        == 403
    )


def test_a_staff_view_never_makes_a_bind_code(app):
    world = World.for_calls()
    c = world.candidate(S.WAITING)
    version = c.version
    with app.test_request_context("/"):
        render_template("_second_camera_panel.html", candidate=c)
    c = fresh(c)
    assert c.second_camera_code is None and c.version == version


def test_the_bind_code_is_made_once(app):
    c = World.for_calls().candidate(S.DEBUGGED)
    first = ensure_bind_code(c)
    assert ensure_bind_code(fresh(c)) == first
    assert set(first) <= set(ALPHABET)


def test_the_phone_stops_when_the_candidates_way_is_over(app):
    world = World.for_calls()
    c = world.candidate(S.RELEASED)
    phone = Phone(app, ensure_bind_code(c))
    assert "面试已全部结束" in phone.open().get_data(as_text=True)
    response = phone.ping()
    assert response.status_code == 286  # htmx stops polling
    assert "hx-trigger" not in phone.call().get_data(as_text=True)


@pytest.mark.parametrize("typed", ["", "1234", "ABCDEFG0", "ABCDEFGHJ"])
def test_a_mistyped_code_says_how_it_looks(app, client, typed):
    response = client.get("/calls/phone", query_string={"code": typed})
    assert response.status_code == 400 and "绑定码为8位字母或数字" in response.get_data(
        as_text=True
    )


def test_unknown_codes_draw_on_a_budget_per_address_that_bound_phones_skip(app):
    c = World.for_calls().candidate(S.WAITING)
    phone = Phone(app, ensure_bind_code(c))
    assert phone.open().status_code == 200  # bound before the guessing starts
    guesser = app.test_client()
    there = {"REMOTE_ADDR": "203.0.113.77"}
    for i in range(UNKNOWN_CODE_BUDGET_PER_MINUTE):
        guess = "".join(ALPHABET[(i + k) % len(ALPHABET)] for k in range(CODE_LENGTH))
        assert guesser.get(f"/calls/phone/{guess}", environ_base=there).status_code == 404
    # The guessing address is refused, even with a real code...
    assert guesser.get(f"/calls/phone/{phone.code}", environ_base=there).status_code == 429
    # ...but only that one (issue 14: 30 unknown codes used to lock every phone out)...
    assert app.test_client().get(f"/calls/phone/{phone.code}").status_code == 200
    # ...and the phone that already proved its code keeps working.
    assert phone.ping().status_code == 200
