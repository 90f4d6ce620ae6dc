"""The supervised waiting room: spot checks (随机检查), call-backs (视频回呼), their refusals,
their lapse, their races, and what the candidate's page and the assistant's console show."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from app import db
from app.day.consoles import settle_due
from app.day.overview import timeline
from app.day.poll import page_stage
from app.jitsi.embed import candidate_call_room, candidate_page_room, waiting_room
from app.journey import (
    Actor,
    current_call,
    lapse_spot_checks,
    live_spot_check,
    perform,
    ringing_call,
)
from app.models import AuditEvent, Call, Candidate, PanelMember, Role, User
from app.models.candidate import CandidateState as S
from app.setup.exams import EXAM_FIELDS
from tests.candidate_client import CandidateBrowser
from tests.conftest import at_once, csrf_token_from, signed_in_staff
from tests.factories import World, gen_user
from tests.jitsi_world import the_embed
from tests.refusal_checks import refusal

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    return World()


def fresh(c) -> Candidate:
    return db.session.get(Candidate, c.id, populate_existing=True)


def kinds(c) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.kind).where(AuditEvent.candidate_id == c.id).order_by(AuditEvent.id)
        )
    )


def spot_checks(c) -> list[Call]:
    return list(
        db.session.scalars(
            select(Call)
            .where(Call.candidate_id == c.id, Call.kind.in_(["spot_check", "call_back"]))
            .order_by(Call.id)
        )
    )


def second_assistant(world) -> User:
    other = gen_user("assistant2", role=Role.ASSISTANT, display_name="助理 二")
    db.session.add(PanelMember(panel_id=world.panel.id, user_id=other.id, role="assistant"))
    db.session.commit()
    return other


# --- the moves -----------------------------------------------------------------------------------


def test_a_spot_check_rings_is_accepted_and_ended_and_the_state_never_changes(world):
    c = world.to_waiting(world.candidates[0])
    assistant, me = Actor.staff(world.assistant), world.as_candidate(c)
    at = world.now + timedelta(minutes=3)
    version = fresh(c).version

    c = perform(c.id, "call_spot_check", assistant, at)
    assert c.state == S.WAITING and c.version > version  # her page notices at its next poll
    (call,) = spot_checks(c)
    assert (call.kind, call.outcome, call.called_by_id) == (
        "spot_check",
        "ringing",
        world.assistant.id,
    )
    assert call.accept_by == at + timedelta(seconds=world.exam.call_accept_seconds)
    assert call.room not in (world.panel.interview_room, world.panel.rest_room)
    assert page_stage(c) == "waiting"  # rung inside the waiting page, like any call

    c = perform(c.id, "accept_spot_check", me, at + timedelta(seconds=5))
    assert c.state == S.WAITING and fresh(c).lot_number == c.lot_number
    assert live_spot_check(c.id).outcome == "accepted"
    assert page_stage(c) == "spot_check"
    assert candidate_page_room(c) == (call.room, "spot_check")

    c = perform(c.id, "end_spot_check", assistant, at + timedelta(minutes=1))
    assert c.state == S.WAITING and live_spot_check(c.id) is None
    db.session.refresh(call)
    assert call.outcome == "ended" and call.ended_at is not None and call.accepted_at is not None
    assert page_stage(c) == "waiting"  # back in the waiting room
    assert kinds(c)[-3:] == [
        "journey.call_spot_check",
        "journey.accept_spot_check",
        "journey.end_spot_check",
    ]
    ended = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "journey.end_spot_check")
    ).one()
    assert ended.data["outcome"] == "ended" and ended.data["call_kind"] == "spot_check"
    labels = [entry.label for entry in timeline(c)][-3:]
    assert labels == [
        "随机检查（助理视频连线）：面试助理发起，等待考生接受",
        "随机检查（助理视频连线）：考生已接受（通话中）",
        "随机检查（助理视频连线）：面试助理已结束通话",
    ]


def test_a_debugged_candidate_may_be_spot_checked_and_enter_the_waiting_room_meanwhile(world):
    c = world.to_waiting(world.candidates[0])  # (for the mark_debugged helper path)
    d = world.candidates[1]
    world.to_debug_waiting(d)
    perform(d.id, "call_debug", Actor.staff(world.assistant), world.now)
    perform(d.id, "accept_debug", world.as_candidate(d), world.now)
    perform(d.id, "check_identity", Actor.staff(world.assistant), world.now)
    d = perform(d.id, "mark_debugged", Actor.staff(world.assistant), world.now)
    d = perform(d.id, "call_spot_check", Actor.staff(world.assistant), world.now)
    assert d.state == S.DEBUGGED and live_spot_check(d.id).outcome == "ringing"
    assert c.state == S.WAITING


def test_a_ringing_spot_check_nobody_accepts_lapses_without_counting_a_missed_call(world):
    c = world.to_waiting(world.candidates[0])
    perform(c.id, "call_spot_check", Actor.staff(world.assistant), world.now)
    late = world.now + timedelta(seconds=world.exam.call_accept_seconds)
    assert lapse_spot_checks(late - timedelta(seconds=1), panel_id=world.panel.id) == 0
    assert settle_due(late, panel_id=world.panel.id) >= 1  # the consoles' look lapses it
    (call,) = spot_checks(c)
    assert call.outcome == "lapsed" and call.ended_at == late
    c = fresh(c)
    assert c.state == S.WAITING and c.missed_calls == 0  # not the chief's call: no 顺延
    assert kinds(c)[-1] == "journey.lapse_spot_check"
    assert timeline(c)[-1].label.endswith("考生未在规定时间内接受（超时）")
    with refusal("no_spot_check"):
        perform(c.id, "accept_spot_check", world.as_candidate(c), late)


def test_accepting_after_the_accept_by_time_is_refused_in_chinese(world):
    c = world.to_waiting(world.candidates[0])
    perform(c.id, "call_spot_check", Actor.staff(world.assistant), world.now)
    late = world.now + timedelta(seconds=world.exam.call_accept_seconds + 1)
    with refusal("no_spot_check") as caught:
        perform(c.id, "accept_spot_check", world.as_candidate(c), late)
    assert "超时" in caught.value.message


# --- refusals -----------------------------------------------------------------------------------


def test_refusals_busy_assistant_live_spot_check_and_nothing_to_accept(world):
    a, b = world.candidates[0], world.candidates[1]
    world.to_waiting(a)
    world.to_waiting(b)
    assistant = Actor.staff(world.assistant)
    with refusal("no_spot_check"):
        perform(a.id, "accept_spot_check", world.as_candidate(a), world.now)
    with refusal("no_spot_check"):
        perform(a.id, "end_spot_check", assistant, world.now)
    perform(a.id, "call_spot_check", assistant, world.now)
    with refusal("assistant_call_busy"):
        perform(b.id, "call_spot_check", assistant, world.now)
    other = Actor.staff(second_assistant(world))
    with refusal("spot_check_live"):
        perform(a.id, "call_spot_check", other, world.now)
    with refusal("spot_check_live"):
        perform(a.id, "call_back", other, world.now)
    # Once it lapsed the assistant is free again.
    late = world.now + timedelta(seconds=world.exam.call_accept_seconds)
    perform(b.id, "call_spot_check", assistant, late)


def test_an_assistant_in_a_debug_call_cannot_spot_check_and_vice_versa(world):
    waiting, debug = world.candidates[0], world.candidates[1]
    world.to_waiting(waiting)
    world.to_debug_waiting(debug)
    assistant = Actor.staff(world.assistant)
    perform(debug.id, "call_debug", assistant, world.now)
    with refusal("assistant_call_busy"):
        perform(waiting.id, "call_spot_check", assistant, world.now)
    perform(debug.id, "cancel_debug_call", assistant, world.now)
    perform(waiting.id, "call_spot_check", assistant, world.now)
    with refusal("assistant_call_busy"):
        perform(debug.id, "call_debug", assistant, world.now)


def test_spot_checks_only_in_the_waiting_room_or_debugged_call_backs_never_in_the_interview(world):
    c = world.candidates[0]
    assistant = Actor.staff(world.assistant)
    with refusal("wrong_state"):
        perform(c.id, "call_spot_check", assistant, world.now)  # invited
    with refusal("candidate_offline"):
        perform(c.id, "call_back", assistant, world.now)  # invited, never signed in
    world.to_waiting(c)
    after_cutoff = world.now + timedelta(minutes=31)
    perform(c.id, "draw_lot", world.as_candidate(c), world.now)
    perform(c.id, "call_interview", Actor.staff(world.chief), after_cutoff)
    perform(c.id, "accept_interview", world.as_candidate(c), after_cutoff)
    for move in ("call_spot_check", "call_back"):
        with refusal("wrong_state"):
            perform(c.id, move, assistant, after_cutoff)
    with refusal("not_allowed"):
        perform(world.candidates[1].id, "call_back", Actor.staff(world.chief), world.now)


# --- the other calls are not confused by a spot check -------------------------------------------


def test_a_spot_check_is_never_taken_for_the_debug_or_interview_call(world):
    c = world.to_waiting(world.candidates[0])
    perform(c.id, "call_spot_check", Actor.staff(world.assistant), world.now)
    c = fresh(c)
    assert current_call(c) is None and ringing_call(c) is None
    assert candidate_call_room(c) is None  # her phone stays out of it
    assert candidate_page_room(c) == (waiting_room(world.panel), "waiting")  # until accepted


def test_the_chiefs_interview_call_ends_a_spot_check_and_is_the_call_she_answers(world):
    c = world.to_waiting(world.candidates[0])
    perform(c.id, "draw_lot", world.as_candidate(c), world.now)
    after_cutoff = world.now + timedelta(minutes=31)
    perform(c.id, "call_spot_check", Actor.staff(world.assistant), after_cutoff)
    perform(c.id, "accept_spot_check", world.as_candidate(c), after_cutoff)
    c = perform(c.id, "call_interview", Actor.staff(world.chief), after_cutoff)
    assert c.state == S.INTERVIEW_CALLED
    (spot,) = spot_checks(c)
    assert spot.outcome == "ended" and spot.ended_at == after_cutoff
    assert ringing_call(c).kind == "interview" and page_stage(c) == "waiting"
    superseded = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "spot_check.superseded")
    ).one()
    assert superseded.data["by_call"] == "interview" and superseded.candidate_id == c.id
    assert any(e.label == "随机检查（助理视频连线）：因主考官呼叫面试而结束" for e in timeline(c))
    c = perform(c.id, "accept_interview", world.as_candidate(c), after_cutoff)
    assert c.state == S.INTERVIEWING


def test_call_back_from_the_debug_queue_gives_way_to_the_debug_call(world):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    fresh(c).session_nonce = "n1"
    db.session.commit()
    other = second_assistant(world)
    perform(c.id, "call_back", Actor.staff(other), world.now)
    c = perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    assert c.state == S.DEBUG_CALLED and ringing_call(c).kind == "debug"
    assert spot_checks(c)[0].outcome == "cancelled"


def test_call_back_from_the_rest_room_and_back(world):
    c = world.candidates[0]
    c.state, c.session_nonce = S.RESTING, "n1"
    db.session.commit()
    perform(c.id, "call_back", Actor.staff(world.assistant), world.now)
    perform(c.id, "accept_spot_check", world.as_candidate(c), world.now)
    c = fresh(c)
    assert page_stage(c) == "spot_check" and candidate_page_room(c)[1] == "spot_check"
    assert candidate_call_room(c) == (world.panel.rest_room, "rest")  # the phone stays
    c = perform(c.id, "end_spot_check", Actor.staff(world.assistant), world.now)
    assert page_stage(c) == "resting" and c.state == S.RESTING


def test_disqualifying_ends_a_spot_check(world):
    c = world.to_waiting(world.candidates[0])
    perform(c.id, "call_spot_check", Actor.staff(world.assistant), world.now)
    perform(c.id, "disqualify", Actor.staff(world.hr), world.now, reason="替考")
    assert live_spot_check(c.id) is None


# --- races ----------------------------------------------------------------------------------------


def test_two_assistants_spot_checking_the_same_candidate_at_once_exactly_one_wins(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite allows one writer at a time)")
    c = world.to_waiting(world.candidates[0])
    ids = [world.assistant.id, second_assistant(world).id]

    def call(i):
        try:
            user = db.session.get(User, ids[i])
            perform(c.id, "call_spot_check", Actor.staff(user), world.now)
            return "ok"
        except Exception as error:  # a Refused, with its code
            return getattr(error, "code", repr(error))

    results = at_once(app, 2, call)
    assert sorted(results) == ["changed_meanwhile", "ok"] or sorted(results) == [
        "ok",
        "spot_check_live",
    ], results
    assert len(spot_checks(c)) == 1


# --- the pages ----------------------------------------------------------------------------------


def test_hr_sets_the_waiting_room_recording_on_the_exam_form(app, client, staff):
    from app.models import Exam
    from tests.test_hr_pages import HR, exam_form

    assert "record_waiting_room" in EXAM_FIELDS
    gen_user("hr1", role=Role.HR)
    assert staff.login("hr1").status_code == 302
    hr = HR(client)
    assert "录制面试等待室" in hr.get("/hr/exams/new").get_data(as_text=True)
    assert hr.post("/hr/exams/new", exam_form()).status_code == 302
    exam = db.session.scalars(select(Exam)).one()
    assert exam.record_waiting_room is False
    assert (
        hr.post(f"/hr/exams/{exam.id}/edit", exam_form(record_waiting_room="y")).status_code == 302
    )
    db.session.refresh(exam)
    assert exam.record_waiting_room is True


def _signed_in_candidate(app, c) -> CandidateBrowser:
    me = CandidateBrowser(app.test_client())
    assert me.enter_code(c.code).status_code == 303
    return me


def test_the_waiting_page_joins_the_panels_waiting_room_muted_and_seeing_nobody(app, world):
    c = world.to_waiting(world.candidates[0])
    me = _signed_in_candidate(app, c)
    html = me.html()
    room = waiting_room(world.panel)
    assert f'data-jitsi-room="{room}"' in html and 'data-jitsi-kind="waiting"' in html
    assert 'data-jitsi-last-n="0"' in html and 'data-jitsi-audio-muted="true"' in html
    assert "data-jitsi-tile-view" not in html
    # Cannot unmute or go dark: no such button (the call's words name them all, hence the toolbar).
    toolbar = json.loads(the_embed(html)["data-jitsi-toolbar"])
    assert "microphone" not in toolbar and "camera" not in toolbar
    # Same panel, same room on every page; another panel's is another.
    assert waiting_room(world.panel) == room
    other = world.add_other_panel("chief2")
    assert waiting_room(other) != room and room.startswith("ir-e")


def test_console_spot_check_candidate_accepts_assistant_ends_back_in_the_waiting_room(app, world):
    world.exam.record_waiting_room = True
    db.session.commit()
    c = world.to_waiting(world.candidates[0])
    me = _signed_in_candidate(app, c)
    assistant = signed_in_staff(app, "assistant")
    page = assistant.get(f"/assistant/panels/{world.panel.id}").get_data(as_text=True)
    room = waiting_room(world.panel)
    assert f'data-jitsi-room="{room}"' in page and 'data-jitsi-tile-view="true"' in page
    assert 'data-jitsi-record="true"' in page  # the exam records the waiting room
    assert ">随机检查<" in page and ">视频回呼<" in page
    token = csrf_token_from(page)
    headers = {"X-CSRFToken": token, **HX}
    answer = assistant.post(
        f"/assistant/candidates/{c.id}/spot-check/call_spot_check", headers=headers
    )
    assert answer.status_code == 200 and "已发起随机检查" in answer.get_data(as_text=True)
    call = live_spot_check(c.id)
    mine = assistant.get(f"/assistant/panels/{world.panel.id}/spot-check-call", headers=HX)
    assert f'data-jitsi-room="{call.room}"' in mine.get_data(as_text=True)

    ringing = me.html()
    assert "面试助理正在呼叫您（随机检查）" in ringing
    assert me.post("/me/accept").headers.get("HX-Redirect") == "/me"
    assert me.post("/me/accept").headers.get("HX-Redirect") == "/me"  # a double click: harmless
    html = me.html()
    assert "面试助理视频连线" in html and f'data-jitsi-room="{call.room}"' in html
    assert 'data-jitsi-kind="spot_check"' in html and room not in html
    poll = me.poll("spot_check")
    assert poll.status_code == 200 and "HX-Redirect" not in poll.headers

    again = assistant.post(
        f"/assistant/candidates/{world.candidates[1].id}/spot-check/call_spot_check",
        headers=headers,
    )
    assert again.status_code == 409  # invited, not in the waiting room: nothing rung
    assert "已邀请" in again.get_data(as_text=True)
    ended = assistant.post(
        f"/assistant/candidates/{c.id}/spot-check/end_spot_check", headers=headers
    )
    assert ended.status_code == 200
    assert me.poll("spot_check").headers.get("HX-Redirect") == "/me"  # her page goes back
    html = me.html()
    assert "面试等待室" in html and f'data-jitsi-room="{room}"' in html


def test_the_assistant_calls_back_a_waiting_candidate_instead_of_a_409(app, world):
    c = world.to_waiting(world.candidates[0])
    _signed_in_candidate(app, c)
    assistant = signed_in_staff(app, "assistant")
    page = assistant.get(f"/assistant/panels/{world.panel.id}").get_data(as_text=True)
    headers = {"X-CSRFToken": csrf_token_from(page), **HX}
    answer = assistant.post(f"/assistant/candidates/{c.id}/spot-check/call_back", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert live_spot_check(c.id).kind == "call_back"
    busy = assistant.post(
        f"/assistant/candidates/{c.id}/spot-check/call_spot_check", headers=headers
    )
    assert busy.status_code == 409 and "正在" in busy.get_data(as_text=True)
    gen_user("outsider", role=Role.ASSISTANT)  # an assistant of no panel of hers
    other = signed_in_staff(app, "outsider")
    page = other.get("/assistant/").get_data(as_text=True)
    refused = other.post(
        f"/assistant/candidates/{c.id}/spot-check/end_spot_check",
        headers={"X-CSRFToken": csrf_token_from(page), **HX},
    )
    assert refused.status_code in (403, 404)
    assert db.session.scalar(select(func.count(Call.id)).where(Call.kind == "call_back")) == 1


# --- the waiting room's reports, and her page while the chief's call rings ---------------------


def test_the_waiting_room_and_a_spot_check_are_rooms_their_people_may_report_for(app, client):
    from tests.jitsi_world import report, sign_in_candidate, staff_client

    world = World.for_calls()
    c = world.candidate(S.WAITING)
    room = waiting_room(world.panel)
    token = sign_in_candidate(client, c)
    assert report(client, token, kind="waiting", room=room).status_code == 204
    assert (
        report(client, token, kind="waiting", room=waiting_room(world.other_panel)).status_code
        == 403
    )
    staff, staff_token = staff_client(app, "assistant")
    assert report(staff, staff_token, kind="waiting", room=room).status_code == 204
    outsider, outsider_token = staff_client(app, "outsider")
    assert report(outsider, outsider_token, kind="waiting", room=room).status_code == 403

    perform(c.id, "call_spot_check", Actor.staff(world.assistant), world.now)
    perform(c.id, "accept_spot_check", Actor.of_candidate(c), world.now)
    spot = live_spot_check(c.id).room
    assert report(client, token, kind="spot_check", room=spot).status_code == 204
    assert report(staff, staff_token, kind="spot_check", room=spot).status_code == 204
    assert report(outsider, outsider_token, kind="spot_check", room=spot).status_code == 403


def test_while_the_chiefs_call_rings_her_page_stays_in_the_waiting_room(app, world):
    c = world.to_waiting(world.candidates[0])
    perform(c.id, "draw_lot", world.as_candidate(c), world.now)
    me = _signed_in_candidate(app, c)
    perform(c.id, "call_interview", Actor.staff(world.chief), world.now + timedelta(minutes=31))
    html = me.html()
    assert "面试考官正在呼叫您" in html
    assert f'data-jitsi-room="{waiting_room(world.panel)}"' in html
    assert world.panel.interview_room not in html  # not before she accepts


def test_a_long_list_shows_its_front_in_lot_order_every_live_call_and_counts_the_rest(
    app, monkeypatch
):
    """The list is cut in SQL (a panel has hundreds signed in): the first ROWS_SHOWN of the
    signed-in waiting in lot order, then the debugged, plus a live spot check from further
    back; nobody without a page open; "… and N more" counts the others."""
    monkeypatch.setattr("app.routes.assistant.waiting_room.ROWS_SHOWN", 3)
    world = World(candidates=8)
    people = world.candidates
    for c in people[:6]:
        world.to_waiting(c)
    world.to_debug_waiting(people[6])
    lots = {}
    for n, c in enumerate(reversed(people[:6]), start=1):  # lots in the reverse of ids
        row = fresh(c)
        row.lot_number, row.session_nonce = n, f"nonce-{c.id}"
        lots[c.id] = n
    fresh(people[6]).session_nonce = "nonce-debug-waiting"
    db.session.commit()
    far = people[0]  # lot 6: beyond the first three
    perform(far.id, "call_spot_check", Actor.staff(world.assistant), world.now)
    fresh(people[1]).session_nonce = None  # lot 5: no page open, not listed
    db.session.commit()

    assistant = signed_in_staff(app, world.assistant.username)
    loaded = []

    def note(target, *_):
        loaded.append(target.id)

    event.listen(Candidate, "load", note)
    event.listen(Candidate, "refresh", note)
    try:
        html = assistant.get(
            f"/assistant/panels/{world.panel.id}/spot-checks", headers=HX
        ).get_data(as_text=True)
    finally:
        event.remove(Candidate, "load", note)
        event.remove(Candidate, "refresh", note)
    # Only the rows shown are read from the database, not all eight of the panel.
    assert sorted(set(loaded)) == sorted(c.id for c in people if lots.get(c.id) in (1, 2, 3, 6))
    shown = sorted((c for c in people if c.name in html), key=lambda c: html.index(c.name))
    assert [lots.get(c.id) for c in shown] == [1, 2, 3, 6]
    # Listed and not shown: lot 4, and the debug-waiting one (a call-back candidate, after the
    # waiting); lot 5 has no page open and is not listed at all.
    assert "另有 2 人已登录" in html


def test_a_spot_check_re_renders_the_spot_check_list_not_the_board_or_the_room(world):
    """A spot check changes nothing the assistant's board or the examiners' room shows (the
    state stays; the call is on the list and in the call fragment). Both compared the panel's
    whole version, which every spot-check move bumps, and re-rendered for every open console
    at each ring, accept and hang-up (`make bench`: most of the staff fragments' full renders).
    A move they do show still moves them."""
    from app.models import Panel
    from app.routes.assistant.console import board_etag
    from app.routes.assistant.waiting_room import _list_etag
    from app.routes.examiner.console import _current, _room_etag

    c, other = world.candidates[:2]
    world.to_waiting(c)
    world.to_debug_waiting(other)
    at = world.now + timedelta(minutes=2)

    def etags():
        db.session.expire_all()
        panel = db.session.get(Panel, world.panel.id)
        return {
            "board": board_etag(panel, at)[0],
            "room": _room_etag(panel, at, _current(panel)),
            "list": _list_etag(panel, at),
        }

    before = etags()
    perform(c.id, "call_spot_check", Actor.staff(world.assistant), at)
    rung = etags()
    assert (rung["board"], rung["room"]) == (before["board"], before["room"])
    assert rung["list"] != before["list"]
    perform(c.id, "accept_spot_check", world.as_candidate(c), at)
    perform(c.id, "end_spot_check", Actor.staff(world.assistant), at)
    ended = etags()
    assert (ended["board"], ended["room"]) == (before["board"], before["room"])
    assert ended["list"] not in (before["list"], rung["list"])

    perform(other.id, "call_debug", Actor.staff(world.assistant), at)
    called = etags()
    assert called["board"] != ended["board"] and called["room"] != ended["room"]
    assert called["list"] != ended["list"]
