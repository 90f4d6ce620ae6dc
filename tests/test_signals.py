"""Integrity signals (issue 16, "True signals, live"): the 疑似切屏 beacon's rules, the 多端登录
count of a takeover, the consoles' badges that follow within a poll, and the timeline's words."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app import db
from app.day.signals import AWAY_LIMIT_MS, AWAY_THRESHOLD_MS, duration_words
from app.journey import Actor, perform
from app.models import AuditEvent, Candidate, User
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.conftest import signed_in_staff
from tests.factories import World

HX = {"HX-Request": "true"}
SWITCH = "candidate.suspected_switch"


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def me(world, client):
    browser = CandidateBrowser(client)
    assert browser.enter_code(world.candidates[0].code).status_code == 303
    return browser


def fresh(candidate) -> Candidate:
    db.session.expire_all()
    return db.session.get(Candidate, candidate.id)


def switches(candidate) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.kind == SWITCH, AuditEvent.candidate_id == candidate.id)
            .order_by(AuditEvent.id)
        )
    )


def at(world, **delta):
    return time_machine.travel(world.now + timedelta(**delta), tick=False)


def away(me, kind="hidden", **fields):
    return me.post("/me/visibility", htmx=False, kind=kind, **fields)


# --- the beacon's rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {},  # no duration: an old page, or not ours
        {"ms": ""},
        {"ms": "abc"},
        {"ms": "2.5e3"},
        {"ms": "-3000"},
        {"ms": str(AWAY_LIMIT_MS + 1)},
        {"kind": "nonsense", "ms": "5000"},
    ],
)
def test_a_malformed_beacon_is_a_400_and_counts_nothing(world, me, fields):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    fields = {"kind": "hidden", **fields}
    assert me.post("/me/visibility", htmx=False, **fields).status_code == 400
    assert switches(c) == [] and fresh(c).switch_signals == 0


def test_a_short_absence_is_ignored(world, me):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    with at(world, seconds=5):
        assert away(me, ms=str(AWAY_THRESHOLD_MS - 1)).status_code == 204
        assert away(me, kind="blur", ms="0").status_code == 204
    assert switches(c) == [] and fresh(c).switch_signals == 0


def test_before_debugging_nothing_is_watched(world, me):
    """Invited or confirmed: reading the notices and the device check may take the candidate to
    other windows (the attachments, the camera settings)."""
    c = world.candidates[0]
    assert fresh(c).state == S.INVITED
    with at(world, seconds=5):
        assert away(me, ms="9000").status_code == 204
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    with at(world, seconds=15):
        assert away(me, ms="9000").status_code == 204
    assert switches(c) == [] and fresh(c).switch_signals == 0


def test_after_release_nothing_is_watched(world, me):
    c = world.candidates[0]
    world.to_waiting(c)
    db.session.execute(
        Candidate.__table__.update().where(Candidate.id == c.id).values(state=S.RELEASED)
    )
    db.session.commit()
    with at(world, minutes=5):
        assert away(me, ms="9000").status_code == 204
    assert switches(c) == []


def test_a_long_absence_in_a_watched_state_counts_with_its_duration(world, me):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    version = fresh(c).version
    with at(world, seconds=5):
        assert away(me, ms="5230").status_code == 204
    [event] = switches(c)
    assert event.data["signal"] == "hidden" and event.data["ms"] == 5230
    assert event.data["state"] == S.DEBUG_WAITING and event.data["label"] == "疑似切屏"
    row = fresh(c)
    assert row.switch_signals == 1
    # The core UPDATE leaves the compare-and-set version alone: the journey's next move is not
    # refused, and the candidate's own page is not re-rendered for it.
    assert row.version == version
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now + timedelta(seconds=6))
    assert fresh(c).switch_signals == 1


def test_every_watched_stage_counts(world, me):
    c = world.candidates[0]
    world.to_waiting(c)
    with at(world, minutes=3):
        assert away(me, kind="blur", ms="3000").status_code == 204
    assert [e.data["state"] for e in switches(c)] == [S.WAITING]


def test_the_candidates_page_is_not_re_rendered_for_a_signal(world, me):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    first = me.poll("debug_waiting")
    etag = first.headers["ETag"].strip('"')
    with at(world, seconds=5):
        away(me, ms="4000")
        assert fresh(c).switch_signals == 1
        assert me.poll("debug_waiting", etag).status_code == 304


def test_reports_are_throttled_per_kind(world, me):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    with at(world, seconds=5):
        for _ in range(3):
            assert away(me, ms="3000").status_code == 204
        assert away(me, kind="blur", ms="3000").status_code == 204
    assert [e.data["signal"] for e in switches(c)] == ["hidden", "blur"]
    with at(world, seconds=15):
        away(me, ms="3000")
    assert len(switches(c)) == 3
    assert fresh(c).switch_signals == 3


def test_a_beacon_without_a_candidate_is_answered_and_ignored(world, client):
    response = client.post("/me/visibility", data={"kind": "hidden", "ms": "5000"})
    # No session: the CSRF check refuses (400) or the beacon is ignored (204); nothing counts.
    assert response.status_code in (204, 400)
    db.session.expire_all()
    assert db.session.scalars(select(AuditEvent).filter_by(kind=SWITCH)).all() == []


# --- takeovers ---------------------------------------------------------------------------------


def test_a_second_sign_in_counts_a_takeover(world, app, me):
    c = world.candidates[0]
    assert fresh(c).takeovers == 0
    other = CandidateBrowser(app.test_client(), address="192.0.2.20")
    assert other.enter_code(c.code).status_code == 303
    assert fresh(c).takeovers == 1
    logins = list(
        db.session.scalars(
            select(AuditEvent)
            .filter_by(kind="candidate.login", candidate_id=c.id)
            .order_by(AuditEvent.id)
        )
    )
    assert [e.data["took_over"] for e in logins] == [False, True]
    # The same browser entering its own code again is no takeover.
    assert other.enter_code(c.code).status_code == 303
    assert fresh(c).takeovers == 1


# --- the consoles: badges within a poll ---------------------------------------------------------


def test_the_assistants_board_shows_the_badges_at_the_next_poll(world, app, me):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    assistant = signed_in_staff(app, "assistant")
    url = f"/assistant/panels/{world.panel.id}/board"
    first = assistant.get(url, headers=HX)
    assert first.status_code == 200 and "疑似切屏" not in first.get_data(as_text=True)
    etag = first.headers["ETag"]
    assert assistant.get(url, headers={**HX, "If-None-Match": etag}).status_code == 304
    with at(world, seconds=5):
        away(me, ms="5000")
    CandidateBrowser(app.test_client(), address="192.0.2.30").enter_code(c.code)
    again = assistant.get(url, headers={**HX, "If-None-Match": etag})
    assert again.status_code == 200
    html = again.get_data(as_text=True)
    assert "疑似切屏 1" in html and "多端登录 1" in html
    # In the debug queue's row and in the list of signals.
    assert html.count('data-signal="switch"') == 2


def test_the_board_lists_signals_of_candidates_without_a_row(world, app, me):
    """Waiting candidates have no row on the assistant's board: the signals list shows them."""
    c = world.candidates[0]
    world.to_waiting(c)
    with at(world, minutes=3):
        away(me, ms="5000")
    assistant = signed_in_staff(app, "assistant")
    html = assistant.get(f"/assistant/panels/{world.panel.id}/board", headers=HX).get_data(
        as_text=True
    )
    assert "异常信号" in html and c.name in html and "疑似切屏 1" in html


def test_the_examiners_room_shows_the_current_candidates_badge(world, app, me):
    c = world.candidates[0]
    world.to_waiting(c)
    perform(c.id, "draw_lot", world.as_candidate(c), world.now + timedelta(minutes=2))
    after = world.now + timedelta(minutes=31)
    perform(c.id, "call_interview", Actor.staff(world.chief), after)
    perform(c.id, "accept_interview", world.as_candidate(c), after + timedelta(seconds=5))
    chief = signed_in_staff(app, "chief")
    url = f"/examiner/panels/{world.panel.id}/room"
    with at(world, minutes=32):
        first = chief.get(url, headers=HX)
        assert first.status_code == 200 and "疑似切屏" not in first.get_data(as_text=True)
        away(me, ms="7000")
        again = chief.get(url, headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    html = again.get_data(as_text=True)
    assert "疑似切屏 1" in html
    assert c.name not in html  # examiners see 考生 NN only


# --- the timeline ------------------------------------------------------------------------------


def test_the_timeline_says_it_in_words(world, app, me):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    with at(world, seconds=5):
        away(me, ms="5230")
        away(me, kind="blur", ms="125000")
    CandidateBrowser(app.test_client(), address="192.0.2.30").enter_code(c.code)
    hr = signed_in_staff(app, "hr")
    html = hr.get(f"/hr/exams/{world.exam.id}/candidates/{c.id}/timeline").get_data(as_text=True)
    assert "疑似切屏：切出页面 5 秒" in html
    assert "疑似切屏：窗口失去焦点 2 分 5 秒" in html
    assert "多端登录：考生在另一窗口或设备登录" in html
    assert "suspected_switch</strong>" not in html  # no raw action name as the line
    # HR who reads English gets the same lines in English; the audit data stays as stored.
    hr_user = db.session.scalar(select(User).filter_by(username="hr"))
    hr_user.language = "en"
    db.session.commit()
    english = hr.get(f"/hr/exams/{world.exam.id}/candidates/{c.id}/timeline").get_data(as_text=True)
    assert "Suspected screen switch: left the page 5 s" in english
    assert "Suspected screen switch: the window lost focus 2 min 5 s" in english
    assert "Second sign-in: the candidate signed in from another window or device" in english
    assert switches(c)[0].data["label"] == "疑似切屏"


def test_duration_words(app):
    assert duration_words(2400) == "2 秒"
    assert duration_words(59_600) == "1 分钟"
    assert duration_words(61_000) == "1 分 1 秒"
    assert duration_words("x") == ""
