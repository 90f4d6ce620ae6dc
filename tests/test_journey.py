"""The state machine: every move, every refusal, the clock rules and the races."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import db
from app.journey import MOVES, Actor, Refused, assign_missing_lots, perform, settle, settle_exam
from app.models import AuditEvent, Call, Candidate, PanelMember, Role
from app.models.candidate import CandidateState as S
from tests.conftest import at_once
from tests.factories import World, gen_user
from tests.refusal_checks import refusal


@pytest.fixture
def world(app):
    return World()


def test_the_whole_way_from_invited_to_released(world):
    c = world.candidates[0]
    me, chief, assistant = (
        world.as_candidate(c),
        Actor.staff(world.chief),
        Actor.staff(world.assistant),
    )
    world.to_waiting(c)
    c = perform(c.id, "draw_lot", me, world.now + timedelta(minutes=2))
    assert c.state == S.WAITING and c.lot_number in (1, 2, 3) and not c.lot_assigned

    after_cutoff = world.now + timedelta(minutes=31)
    unconfirmed, confirmed = world.candidates[1:]
    perform(confirmed.id, "confirm", world.as_candidate(confirmed), world.now)
    assert settle(confirmed, after_cutoff).state == S.ABSENT  # never entered: 缺考
    assert settle(unconfirmed, after_cutoff).state == S.DECLINED  # never confirmed: 视为放弃
    c = perform(c.id, "call_interview", chief, after_cutoff)
    assert c.state == S.INTERVIEW_CALLED
    call = db.session.scalars(select(Call).filter_by(candidate_id=c.id, kind="interview")).one()
    assert call.room == world.panel.interview_room
    c = perform(c.id, "accept_interview", me, after_cutoff + timedelta(seconds=10))
    assert c.state == S.INTERVIEWING and c.timer_started_at is None
    started = after_cutoff + timedelta(minutes=2)
    c = perform(c.id, "start_timer", chief, started)
    assert c.deadline_at == started + timedelta(minutes=10)
    c = perform(c.id, "finish", me, started + timedelta(minutes=8))
    assert c.state == S.FINISHED and c.finished_at == started + timedelta(minutes=8)
    c = perform(c.id, "enter_rest", me, started + timedelta(minutes=9))
    c = perform(c.id, "release", assistant, started + timedelta(minutes=40))
    assert c.state == S.RELEASED

    kinds = db.session.scalars(
        select(AuditEvent.kind).where(AuditEvent.candidate_id == c.id).order_by(AuditEvent.id)
    ).all()
    assert kinds == [
        "journey.confirm",
        "journey.enter_debug",
        "journey.call_debug",
        "journey.accept_debug",
        "journey.check_identity",
        "journey.mark_debugged",
        "journey.enter_waiting",
        "journey.draw_lot",
        "journey.call_interview",
        "journey.accept_interview",
        "journey.start_timer",
        "journey.finish",
        "journey.enter_rest",
        "journey.release",
    ]


def test_every_move_names_who_may_make_it_and_from_where():
    for move in MOVES.values():
        assert move.sources and move.by, move.name


@pytest.mark.parametrize("move", sorted(MOVES))
def test_a_move_from_a_state_it_does_not_start_from_is_refused_and_changes_nothing(world, move):
    c = world.candidates[0]
    # Declined: final, fits no move but the exam office's reinstate (which is tried on an
    # invited candidate instead: nothing to reinstate her from).
    if S.DECLINED not in MOVES[move].sources:
        perform(c.id, "decline", world.as_candidate(c), world.now)
    version = db.session.get(Candidate, c.id).version
    actors = [
        world.as_candidate(c),
        Actor.staff(world.chief),
        Actor.staff(world.assistant),
        Actor.staff(world.hr),
        Actor.system(),
    ]
    for actor in actors:
        with pytest.raises(Refused):
            perform(c.id, move, actor, world.now, reason="x")
    assert db.session.get(Candidate, c.id).version == version


def test_declined_candidate_is_told_why(world):
    c = world.candidates[0]
    perform(c.id, "decline", world.as_candidate(c), world.now)
    with refusal("declined"):
        perform(c.id, "confirm", world.as_candidate(c), world.now)


def test_wrong_people_are_refused(world):
    c, other = world.candidates[0], world.candidates[1]
    with refusal("not_allowed"):
        perform(c.id, "confirm", world.as_candidate(other), world.now)
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    for user in (world.examiner, world.hr, gen_user("stranger", role=Role.ASSISTANT)):
        with refusal("not_allowed"):
            perform(c.id, "call_debug", Actor.staff(user), world.now)
    with refusal("not_allowed"):
        perform(c.id, "call_debug", world.as_candidate(c), world.now)


def test_notices_must_be_read_before_the_debug_room(world):
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    with refusal("notices_unread"):
        perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    world.read_notices(c)
    assert perform(c.id, "enter_debug", world.as_candidate(c), world.now).state == S.DEBUG_WAITING


def test_no_answer_by_the_confirm_deadline_is_declined(world):
    c = world.candidates[0]
    late = world.now + timedelta(minutes=21)
    with refusal("declined"):
        perform(c.id, "confirm", world.as_candidate(c), late)  # settled to declined first
    assert db.session.get(Candidate, c.id).state == S.DECLINED


def test_a_call_not_accepted_in_time_lapses_back_to_the_queue_and_counts(world):
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    with refusal("wrong_state"):  # lapsed first, so back in the queue
        perform(c.id, "accept_debug", world.as_candidate(c), world.now + timedelta(seconds=61))
    c = db.session.get(Candidate, c.id)
    assert c.state == S.DEBUG_WAITING and c.missed_calls == 1
    call = db.session.scalars(select(Call).filter_by(candidate_id=c.id)).one()
    assert call.outcome == "lapsed"
    # settling again changes nothing
    version = c.version
    assert settle(c, world.now + timedelta(minutes=2)).version == version


def test_accepting_just_in_time_works(world):
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    c = perform(c.id, "accept_debug", world.as_candidate(c), world.now + timedelta(seconds=59))
    assert c.state == S.DEBUGGING


def test_debugged_needs_an_identity_check(world):
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    perform(c.id, "accept_debug", world.as_candidate(c), world.now)
    with refusal("identity_unchecked"):
        perform(c.id, "mark_debugged", Actor.staff(world.assistant), world.now)


def test_at_the_cut_off_the_debugged_still_enter_and_latecomers_are_absent(world):
    c, late = world.candidates[0], world.candidates[1]
    perform(late.id, "confirm", world.as_candidate(late), world.now)
    me, assistant = world.as_candidate(c), Actor.staff(world.assistant)
    perform(c.id, "confirm", me, world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", me, world.now)
    perform(c.id, "call_debug", assistant, world.now)
    perform(c.id, "accept_debug", me, world.now)
    perform(c.id, "check_identity", assistant, world.now)
    perform(c.id, "mark_debugged", assistant, world.now)
    entered = perform(c.id, "enter_waiting", me, world.now + timedelta(minutes=30))
    assert entered.state == S.WAITING and entered.lot_number == 1 and entered.lot_assigned
    with refusal("absent"):  # not in the debug queue by the cut-off
        perform(late.id, "enter_debug", world.as_candidate(late), world.now + timedelta(minutes=30))
    assert db.session.get(Candidate, late.id).state == S.ABSENT


def test_the_countdown_does_not_pause_and_ends_at_zero(world):
    c = world.candidates[0]
    world.to_waiting(c)
    cutoff = world.now + timedelta(minutes=30)
    assign_missing_lots(world.exam.id, cutoff)
    perform(c.id, "call_interview", Actor.staff(world.chief), cutoff)
    perform(c.id, "accept_interview", world.as_candidate(c), cutoff)
    c = perform(c.id, "start_timer", Actor.staff(world.chief), cutoff)
    # the candidate drops and comes back: nothing is paused, the deadline is the same
    assert settle(c, cutoff + timedelta(minutes=9, seconds=59)).state == S.INTERVIEWING
    c = settle(c, cutoff + timedelta(minutes=12))
    assert c.state == S.FINISHED
    assert c.finished_at == cutoff + timedelta(minutes=10)  # out at zero, though settled later


def test_reading_time_comes_before_the_answer_clock(app):
    w = World(reading_minutes=2)
    c = w.candidates[0]
    w.to_waiting(c)
    t = w.now + timedelta(minutes=30)
    assign_missing_lots(w.exam.id, t)
    perform(c.id, "call_interview", Actor.staff(w.chief), t)
    perform(c.id, "accept_interview", w.as_candidate(c), t)
    c = perform(c.id, "start_timer", Actor.staff(w.chief), t)
    assert c.reading_started_at == t
    assert c.timer_started_at == t + timedelta(minutes=2)
    assert c.deadline_at == t + timedelta(minutes=12)


def test_candidates_are_called_in_lot_order_one_at_a_time(world):
    a, b, c = world.candidates
    for cand in (a, b, c):
        world.to_waiting(cand)
    cutoff = world.now + timedelta(minutes=30)
    chief = Actor.staff(world.chief)
    with refusal("before_cutoff"):
        perform(a.id, "call_interview", chief, world.now + timedelta(minutes=5))
    assert assign_missing_lots(world.exam.id, cutoff) == 3
    assert assign_missing_lots(world.exam.id, cutoff) == 0  # idempotent
    by_lot = sorted(db.session.scalars(select(Candidate)).all(), key=lambda x: x.lot_number)
    assert [x.lot_number for x in by_lot] == [1, 2, 3] and all(x.lot_assigned for x in by_lot)
    with refusal("not_your_turn"):
        perform(by_lot[1].id, "call_interview", chief, cutoff)
    perform(by_lot[0].id, "call_interview", chief, cutoff)
    with refusal("room_busy"):
        perform(by_lot[1].id, "call_interview", chief, cutoff)
    # the wrong candidate answered: send back, they are first again
    perform(by_lot[0].id, "send_back", chief, cutoff)
    assert db.session.get(Candidate, by_lot[0].id).state == S.WAITING
    perform(by_lot[0].id, "call_interview", chief, cutoff)


def test_a_missed_interview_call_defers_the_candidate_behind_everyone_not_yet_called(world):
    from app.journey import interview_queue, next_to_call, settle

    for cand in world.candidates:
        world.to_waiting(cand)
    cutoff = world.now + timedelta(minutes=30)
    assign_missing_lots(world.exam.id, cutoff)
    lot1, lot2, lot3 = sorted(
        world.candidates, key=lambda x: db.session.get(Candidate, x.id).lot_number
    )
    chief = Actor.staff(world.chief)
    at = cutoff

    def miss(cand):
        nonlocal at
        perform(cand.id, "call_interview", chief, at)
        at += timedelta(seconds=61)
        settle(db.session.get(Candidate, cand.id), at)  # the call lapses
        assert db.session.get(Candidate, cand.id).state == S.WAITING

    miss(lot1)
    assert [c.id for c in interview_queue(world.panel.id)] == [lot2.id, lot3.id, lot1.id]
    miss(lot2)
    assert [c.id for c in interview_queue(world.panel.id)] == [lot3.id, lot1.id, lot2.id]
    miss(lot3)
    miss(lot1)  # a second miss: behind those who missed once
    assert [c.id for c in interview_queue(world.panel.id)] == [lot2.id, lot3.id, lot1.id]
    assert next_to_call(world.panel.id).id == lot2.id
    with refusal("not_your_turn", lot=2):
        perform(lot1.id, "call_interview", chief, at)
    # The chief's send-back is not a miss: the candidate keeps their place.
    perform(lot2.id, "call_interview", chief, at)
    perform(lot2.id, "send_back", chief, at)
    assert next_to_call(world.panel.id).id == lot2.id


def test_only_a_candidate_who_missed_a_call_can_be_recorded_absent_by_the_chief(world):
    from app.journey import settle

    a = world.candidates[0]
    world.to_waiting(a)
    cutoff = world.now + timedelta(minutes=30)
    assign_missing_lots(world.exam.id, cutoff)
    chief = Actor.staff(world.chief)
    with refusal("no_missed_call"):
        perform(a.id, "mark_no_show", chief, cutoff)
    perform(a.id, "call_interview", chief, cutoff)
    settle(db.session.get(Candidate, a.id), cutoff + timedelta(seconds=61))
    with pytest.raises(Refused):
        perform(a.id, "mark_no_show", Actor.staff(world.assistant), cutoff + timedelta(seconds=62))
    perform(a.id, "mark_no_show", chief, cutoff + timedelta(seconds=62))
    assert db.session.get(Candidate, a.id).state == S.ABSENT


def test_only_the_chief_calls_and_times(world):
    c = world.candidates[0]
    world.to_waiting(c)
    cutoff = world.now + timedelta(minutes=30)
    assign_missing_lots(world.exam.id, cutoff)
    with refusal("not_allowed"):
        perform(c.id, "call_interview", Actor.staff(world.examiner), cutoff)


def test_the_candidate_cannot_end_before_the_timer_starts(world):
    c = world.candidates[0]
    world.to_waiting(c)
    cutoff = world.now + timedelta(minutes=30)
    assign_missing_lots(world.exam.id, cutoff)
    perform(c.id, "call_interview", Actor.staff(world.chief), cutoff)
    perform(c.id, "accept_interview", world.as_candidate(c), cutoff)
    with refusal("timer_not_started"):
        perform(c.id, "finish", world.as_candidate(c), cutoff)
    perform(c.id, "start_timer", Actor.staff(world.chief), cutoff)
    with refusal("timer_running"):
        perform(c.id, "send_back", Actor.staff(world.chief), cutoff)


def test_disqualification_needs_a_reason(world):
    c = world.candidates[0]
    with refusal("reason_required"):
        perform(c.id, "disqualify", Actor.staff(world.hr), world.now)
    c = perform(c.id, "disqualify", Actor.staff(world.hr), world.now, reason="替考")
    assert c.state == S.DISQUALIFIED
    event = db.session.scalars(select(AuditEvent).filter_by(kind="journey.disqualify")).one()
    assert event.data["reason"] == "替考" and event.actor_label == "hr"


def test_settle_exam_sweeps_everyone_once(world):
    late = world.now + timedelta(minutes=31)
    assert settle_exam(world.exam.id, late) == 3
    assert {c.state for c in db.session.scalars(select(Candidate))} == {S.DECLINED}
    assert settle_exam(world.exam.id, late) == 0


# --- races: threads against the real database -------------------------------------------------


def _race(app, n, action):
    """`action(i)` in n threads at once: "ok", or the refusal's message, per thread."""

    def attempt(i):
        try:
            action(i)
            return "ok"
        except Refused as refused:
            return refused.message

    return at_once(app, n, attempt)


def _postgres_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite allows one writer at a time)")


def test_two_assistants_calling_the_same_candidate_at_once_exactly_one_wins(app, world):
    _postgres_only()
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    second = gen_user("assistant2", role=Role.ASSISTANT)
    db.session.add(PanelMember(panel_id=world.panel.id, user_id=second.id, role="assistant"))
    db.session.commit()
    ids = [world.assistant.id, second.id]

    def call(i):
        from app.models import User

        perform(c.id, "call_debug", Actor.staff(db.session.get(User, ids[i])), world.now)

    results = _race(app, 2, call)
    assert sorted(r == "ok" for r in results) == [False, True], results
    assert db.session.scalar(select(db.func.count(Call.id))) == 1


def test_double_click_on_call_next_calls_exactly_one_candidate(app, world):
    _postgres_only()
    for cand in world.candidates:
        world.to_waiting(cand)
    cutoff = world.now + timedelta(minutes=30)
    assign_missing_lots(world.exam.id, cutoff)
    first = min(world.candidates, key=lambda x: db.session.get(Candidate, x.id).lot_number)
    chief_id = world.chief.id

    def call(i):
        from app.models import User

        perform(first.id, "call_interview", Actor.staff(db.session.get(User, chief_id)), cutoff)

    results = _race(app, 4, call)
    assert results.count("ok") == 1, results
    called = db.session.scalars(select(Candidate).filter_by(state=S.INTERVIEW_CALLED)).all()
    assert len(called) == 1
