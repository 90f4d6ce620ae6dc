"""Exam-day rules that used to live in the views, called directly: what stands before the debug
room (one list for the page and the guard), finishing during 看题时间, one debug call per
assistant."""

from datetime import timedelta

import pytest

from app import db
from app.journey import (
    MOCK_NOT_TAKEN,
    NO_PANEL,
    NOTICES_UNREAD,
    PHOTO_MISSING,
    Actor,
    Refused,
    in_reading_time,
    live_debug_call,
    missing_before_debug,
    perform,
)
from app.models import Candidate
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.test_journey import World


def fresh(candidate) -> Candidate:
    db.session.expire_all()
    return db.session.get(Candidate, candidate.id)


# --- the debug room's prerequisites: one list, the page and the guard agree -------------------


def _only_missing(prerequisite, app):
    """A confirmed candidate lacking exactly `prerequisite` (None: lacking nothing)."""
    world = World(requires_id_photo=True, requires_mock=prerequisite is MOCK_NOT_TAKEN)
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    if prerequisite is not NOTICES_UNREAD:
        world.read_notices(c)
    if prerequisite is not PHOTO_MISSING:
        c.id_photo_path = f"uploads/id_photos/{c.id}.jpg"
    if prerequisite is NO_PANEL:
        c.panel_id = None
    db.session.commit()
    return world, c


@pytest.mark.parametrize(
    "prerequisite",
    [PHOTO_MISSING, NOTICES_UNREAD, NO_PANEL, MOCK_NOT_TAKEN],
    ids=["photo", "notices", "panel", "mock"],
)
def test_the_page_lists_each_missing_step_and_the_move_is_refused_for_it(app, client, prerequisite):
    world, c = _only_missing(prerequisite, app)
    assert missing_before_debug(c) == [prerequisite]
    me = CandidateBrowser(client)
    assert me.enter_code(c.code).status_code == 303
    html = me.html()
    assert f"进入调试等候间前，请先：{prerequisite.step}。" in html
    assert "disabled" in html.split("下一步：进入调试等候间")[0].rsplit("<button", 1)[1]
    refused = me.post("/me/enter-debug")
    assert refused.status_code == 409 and prerequisite.message in refused.get_data(as_text=True)
    assert fresh(c).state == S.CONFIRMED
    with pytest.raises(Refused) as refusal:
        perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    assert refusal.value.message == prerequisite.message


def test_with_nothing_missing_the_page_lists_nothing_and_the_move_works(app, client):
    _world, c = _only_missing(None, app)
    assert missing_before_debug(c) == []
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    html = me.html()
    assert "进入调试等候间前，请先" not in html
    assert me.post("/me/enter-debug").headers.get("HX-Redirect") == "/me"
    assert fresh(c).state == S.DEBUG_WAITING


def test_several_missing_steps_are_listed_in_order_and_the_first_refuses(app):
    world = World(requires_id_photo=True)
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    assert missing_before_debug(c) == [PHOTO_MISSING, NOTICES_UNREAD]
    with pytest.raises(Refused, match=PHOTO_MISSING.message):
        perform(c.id, "enter_debug", world.as_candidate(c), world.now)


# --- finishing during 看题时间 ----------------------------------------------------------------


def _reading(world: World, c: Candidate):
    world.to_waiting(c)
    perform(c.id, "draw_lot", world.as_candidate(c), world.now + timedelta(minutes=2))
    after = world.now + timedelta(minutes=31)
    perform(c.id, "call_interview", Actor.staff(world.chief), after)
    perform(c.id, "accept_interview", world.as_candidate(c), after + timedelta(seconds=5))
    perform(c.id, "start_timer", Actor.staff(world.chief), after + timedelta(seconds=10))
    return after + timedelta(seconds=10)


def test_the_candidate_may_not_finish_during_reading_time_but_may_once_answering(app):
    world = World(reading_minutes=2)
    c = world.candidates[0]
    started = _reading(world, c)
    assert in_reading_time(fresh(c), started + timedelta(seconds=30))
    with pytest.raises(Refused, match="看题时间内不能结束面试"):
        perform(c.id, "finish", world.as_candidate(c), started + timedelta(seconds=30))
    assert fresh(c).state == S.INTERVIEWING
    answering = started + timedelta(minutes=2, seconds=1)
    assert not in_reading_time(fresh(c), answering)
    assert perform(c.id, "finish", world.as_candidate(c), answering).state == S.FINISHED


def test_the_chief_may_end_the_interview_during_reading_time(app):
    world = World(reading_minutes=2)
    c = world.candidates[0]
    started = _reading(world, c)
    finished = perform(c.id, "finish", Actor.staff(world.chief), started + timedelta(seconds=30))
    assert finished.state == S.FINISHED


# --- one debug call per assistant -------------------------------------------------------------


def test_an_assistant_rings_one_candidate_at_a_time(app):
    world = World()
    first, second = world.candidates[:2]
    assistant = Actor.staff(world.assistant)
    world.to_debug_waiting(first)
    world.to_debug_waiting(second)
    perform(first.id, "call_debug", assistant, world.now)
    assert live_debug_call(world.assistant.id, world.panel.id).candidate_id == first.id
    with pytest.raises(Refused, match="请先结束当前调试通话"):
        perform(second.id, "call_debug", assistant, world.now + timedelta(seconds=5))
    assert fresh(second).state == S.DEBUG_WAITING
    # Accepted, the call still holds the assistant; ended, it no longer does.
    perform(first.id, "accept_debug", world.as_candidate(first), world.now + timedelta(seconds=6))
    with pytest.raises(Refused, match="请先结束当前调试通话"):
        perform(second.id, "call_debug", assistant, world.now + timedelta(seconds=7))
    perform(first.id, "end_debug", assistant, world.now + timedelta(seconds=8))
    assert live_debug_call(world.assistant.id, world.panel.id) is None
    assert (
        perform(second.id, "call_debug", assistant, world.now + timedelta(seconds=9)).state
        == S.DEBUG_CALLED
    )


def test_a_call_past_its_accept_time_no_longer_holds_the_assistant(app):
    world = World()
    first, second = world.candidates[:2]
    assistant = Actor.staff(world.assistant)
    world.to_debug_waiting(first)
    world.to_debug_waiting(second)
    perform(first.id, "call_debug", assistant, world.now)
    lapsed = world.now + timedelta(seconds=world.exam.call_accept_seconds + 1)
    # Not settled yet (nobody looked at the first candidate), yet it no longer counts.
    assert live_debug_call(world.assistant.id, world.panel.id, now=lapsed) is None
    assert perform(second.id, "call_debug", assistant, lapsed).state == S.DEBUG_CALLED


def test_another_assistant_s_call_does_not_hold_me(app):
    from app.models import PanelMember, Role
    from tests.conftest import gen_user

    world = World()
    first, second = world.candidates[:2]
    colleague = gen_user("assistant2", role=Role.ASSISTANT)
    db.session.add(PanelMember(panel_id=world.panel.id, user_id=colleague.id, role="assistant"))
    db.session.commit()
    world.to_debug_waiting(first)
    world.to_debug_waiting(second)
    perform(first.id, "call_debug", Actor.staff(colleague), world.now)
    assert (
        perform(second.id, "call_debug", Actor.staff(world.assistant), world.now).state
        == S.DEBUG_CALLED
    )
