"""Exam-day overrides (考务处置): each move, each refusal, who may, the races, the timeline words.

The clock is moved by hand: the World's entry cut-off is 30 minutes after `world.now`.
"""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import db
from app.day.overrides import OVERRIDE_ROLES
from app.day.overview import timeline
from app.journey import (
    CHIEF,
    HR,
    MOVES,
    Actor,
    Refused,
    lot_after_drawn,
    next_to_call,
    perform,
    settle,
)
from app.models import (
    AuditEvent,
    Call,
    Candidate,
    CandidateResult,
    ExaminerScore,
    Panel,
    PanelMember,
    QuestionSet,
    Recusal,
    Role,
    ScoreDimension,
    ScoreItem,
    User,
)
from app.models.candidate import CandidateState as S
from tests.conftest import at_once
from tests.factories import World, gen_exam, gen_user
from tests.refusal_checks import refusal

README = Path(__file__).resolve().parent.parent / "README.md"
OVERRIDES = ["reinstate", "reinterview", "extend_interview", "move_panel", "undo_disqualification"]


@pytest.fixture
def world(app):
    return World()


def cutoff(world, minutes=1):
    return world.exam.entry_cutoff_at + timedelta(minutes=minutes)


def fresh(c) -> Candidate:
    found = db.session.get(Candidate, c.id, populate_existing=True)
    assert found is not None
    return found


def hr(world):
    return Actor.staff(world.hr)


def chief(world):
    return Actor.staff(world.chief)


def last_event(c, kind) -> AuditEvent:
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.candidate_id == c.id, AuditEvent.kind == kind)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    assert event is not None, kind
    return event


def waiting_with_lot(world, c, lot_at=None):
    world.to_waiting(c)
    return perform(
        c.id, "draw_lot", world.as_candidate(c), lot_at or world.now + timedelta(minutes=2)
    )


def interviewing(world, c, at=None, start=True):
    """Waiting, called after the cut-off, in the room, the countdown running from `at` + 1 min."""
    at = at or cutoff(world)
    if c.state != S.WAITING:
        waiting_with_lot(world, c)
    perform(c.id, "call_interview", chief(world), at)
    perform(c.id, "accept_interview", world.as_candidate(c), at + timedelta(seconds=10))
    if start:
        perform(c.id, "start_timer", chief(world), at + timedelta(minutes=1))
    return fresh(c)


def resting(world, c, at=None):
    at = at or cutoff(world)
    interviewing(world, c, at)
    perform(c.id, "finish", chief(world), at + timedelta(minutes=5))
    return perform(c.id, "enter_rest", world.as_candidate(c), at + timedelta(minutes=6))


def extra_candidate(world, state, lot=None, panel=None, **kw) -> Candidate:
    n = db.session.scalar(select(func.count(Candidate.id))) + 10
    c = Candidate(
        exam_id=world.exam.id,
        panel_id=(panel or world.panel).id,
        name=f"另一考生{n}",
        id_number=f"1101051990020200{n:02d}",
        phone="13800138001",
        position="综合管理岗",
        code=f"{200000 + n}",
        state=state,
        lot_number=lot,
        **kw,
    )
    db.session.add(c)
    db.session.commit()
    return c


def exam_wide_questions(world):
    db.session.add(QuestionSet(exam_id=world.exam.id, title="题本 A", body="第一题"))
    db.session.commit()


def second_panel(world, staffed=True) -> Panel:
    other = world.add_other_panel("chief2")
    if staffed:
        helper = gen_user("assistant2", role=Role.ASSISTANT)
        db.session.add(PanelMember(panel_id=other.id, user_id=helper.id, role="assistant"))
        db.session.commit()
    return other


# --- the table -----------------------------------------------------------------------------


def test_the_table_names_the_five_overrides_and_the_moves_read_it():
    assert list(OVERRIDE_ROLES) == OVERRIDES
    for name, roles in OVERRIDE_ROLES.items():
        assert MOVES[name].by == roles, name
        assert roles <= {HR, CHIEF}, name
    # Whoever may disqualify may undo it.
    assert OVERRIDE_ROLES["undo_disqualification"] == MOVES["disqualify"].by


def test_readme_lists_the_same_table():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Exam-day overrides", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`(\w+)`", cells[0]) if len(cells) >= 3 else None
        if match:
            rows[match.group(1)] = frozenset(
                role
                for role, cell in zip((HR, CHIEF), cells[1:3], strict=True)
                if cell.lower() == "yes"
            )
    assert rows == OVERRIDE_ROLES


def _ready_for(world, move) -> Candidate:
    """A candidate in a state the override starts from."""
    c = world.candidates[0]
    if move == "reinstate":
        return perform(c.id, "decline", world.as_candidate(c), world.now)
    if move in ("reinterview", "extend_interview"):
        return interviewing(world, c)
    if move == "move_panel":
        second_panel(world)
        return waiting_with_lot(world, c)
    return perform(c.id, "disqualify", hr(world), world.now, reason="违纪")


@pytest.mark.parametrize("move", OVERRIDES)
def test_every_override_needs_a_reason(world, move):
    c = _ready_for(world, move)
    version = fresh(c).version
    at = c.timer_started_at or world.now
    for reason in ("", "   ", None):
        with refusal("reason_required") as caught:
            perform(c.id, move, hr(world), at, reason=reason, minutes=5, panel_id=c.panel_id)
        assert "原因" in caught.value.message
    assert fresh(c).version == version


# --- reinstate -----------------------------------------------------------------------------


def test_reinstate_an_absent_candidate_who_never_debugged_back_to_confirmed(world):
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    late = cutoff(world)
    assert settle(fresh(c), late).state == S.ABSENT
    c = perform(c.id, "reinstate", hr(world), late, reason="网络故障，考务核实后准予入场")
    assert c.state == S.CONFIRMED and c.reinstated_at == late and c.state_changed_at == late
    event = last_event(c, "journey.reinstate")
    assert event.data["reason"] == "网络故障，考务核实后准予入场"
    assert (event.data["before"], event.data["after"]) == (S.ABSENT, S.CONFIRMED)


def test_reinstate_a_candidate_absent_after_debugging_back_to_debugged(world):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    perform(c.id, "accept_debug", world.as_candidate(c), world.now)
    perform(c.id, "check_identity", Actor.staff(world.assistant), world.now)
    perform(c.id, "mark_debugged", Actor.staff(world.assistant), world.now)
    # Debugged is in by the cut-off (the fair cut-off): only the assistant marks her absent.
    assert settle(fresh(c), cutoff(world)).state == S.DEBUGGED
    perform(
        c.id,
        "mark_absent_in_debug",
        Actor.staff(world.assistant),
        cutoff(world, 1),
        reason="未进入",
    )
    c = perform(c.id, "reinstate", hr(world), cutoff(world, 2), reason="调试完毕后掉线")
    assert c.state == S.DEBUGGED and c.reinstated_at == cutoff(world, 2)


def test_reinstate_a_no_show_back_to_the_waiting_room_with_a_lot_after_those_drawn(world):
    first, second = world.candidates[:2]
    waiting_with_lot(world, first)
    waiting_with_lot(world, second)
    at = cutoff(world)
    no_show = next_to_call(world.panel.id)
    assert no_show is not None
    perform(no_show.id, "call_interview", chief(world), at)
    settle(fresh(no_show), at + timedelta(minutes=2))  # the call lapses: 顺延
    perform(no_show.id, "mark_no_show", chief(world), at + timedelta(minutes=3))
    assert fresh(no_show).state == S.ABSENT
    highest = lot_after_drawn(world.panel.id) - 1
    c = perform(no_show.id, "reinstate", hr(world), at + timedelta(minutes=4), reason="网络中断")
    assert c.state == S.WAITING and c.lot_number == highest + 1 and c.lot_assigned
    assert last_event(c, "journey.reinstate").data["lot"] == highest + 1


def test_reinstate_a_declined_candidate_back_to_confirmed(world):
    c = world.candidates[0]
    perform(c.id, "decline", world.as_candidate(c), world.now)
    later = world.now + timedelta(minutes=25)  # after the confirmation deadline
    c = perform(c.id, "reinstate", hr(world), later, reason="误点放弃，本人来电确认参加")
    assert c.state == S.CONFIRMED and c.confirmed_at == later and c.reinstated_at == later


def test_reinstate_without_a_panel_goes_back_to_confirmed(world):
    c = world.candidates[0]
    c.panel_id = None
    db.session.commit()
    perform(c.id, "decline", world.as_candidate(c), world.now)
    c = perform(c.id, "reinstate", hr(world), world.now, reason="误点放弃")
    assert c.state == S.CONFIRMED and c.panel_id is None


def test_reinstate_is_refused_once_someone_sharing_the_questions_has_left(world):
    exam_wide_questions(world)
    other = second_panel(world)
    extra_candidate(world, S.RELEASED, lot=1, panel=other)
    c = world.candidates[0]
    perform(c.id, "decline", world.as_candidate(c), world.now)
    with refusal("reinstate_questions_out", panel="第二考场", released=1) as caught:
        perform(c.id, "reinstate", hr(world), world.now, reason="误点放弃")
    assert "第二考场" in caught.value.message and "补考" in caught.value.message
    assert fresh(c).state == S.DECLINED


def test_reinstate_is_for_hr_alone(world):
    c = world.candidates[0]
    perform(c.id, "decline", world.as_candidate(c), world.now)
    for actor in (chief(world), Actor.staff(world.assistant), Actor.staff(world.examiner)):
        with refusal("not_allowed"):
            perform(c.id, "reinstate", actor, world.now, reason="x")


def test_reinstate_from_a_state_still_in_the_exam_is_refused(world):
    c = world.candidates[0]
    with refusal("wrong_state"):
        perform(c.id, "reinstate", hr(world), world.now, reason="x")


# --- reinterview ---------------------------------------------------------------------------


def _sheets(world, c):
    dim = ScoreDimension(exam_id=world.exam.id, name="综合分析", max_score=Decimal(40))
    db.session.add(dim)
    db.session.flush()
    sheet = ExaminerScore(candidate_id=c.id, examiner_id=world.chief.id, status="submitted")
    sheet.items.append(ScoreItem(dimension_id=dim.id, value=Decimal("31.5")))
    db.session.add(sheet)
    db.session.add(Recusal(candidate_id=c.id, examiner_id=world.examiner.id, reason="同一单位"))
    db.session.add(CandidateResult(candidate_id=c.id, final_score=Decimal("31.50")))
    db.session.commit()


def test_reinterview_voids_the_attempt_keeps_it_in_the_audit_and_puts_her_first(world):
    c, other = world.candidates[:2]
    c = interviewing(world, c)
    waiting_with_lot(world, other)
    started = c.timer_started_at
    _sheets(world, c)
    calls = db.session.scalar(select(func.count(Call.id)).where(Call.candidate_id == c.id))
    at = started + timedelta(minutes=3)
    c = perform(c.id, "reinterview", chief(world), at, reason="考生端视频中断")
    assert c.state == S.WAITING and c.requeued_at == at
    assert (c.reading_started_at, c.timer_started_at, c.deadline_at, c.finished_at) == (None,) * 4
    assert db.session.scalar(select(func.count(ExaminerScore.id))) == 0
    assert db.session.scalar(select(func.count(ScoreItem.id))) == 0
    assert db.session.scalar(select(func.count(CandidateResult.id))) == 0
    assert db.session.scalar(select(func.count(Recusal.id))) == 1  # a recusal is not a score
    # The calls (and with them the recording moments) are kept; the live one has ended.
    assert db.session.scalar(select(func.count(Call.id)).where(Call.candidate_id == c.id)) == calls
    assert not db.session.scalar(
        select(func.count(Call.id)).where(Call.candidate_id == c.id, Call.outcome == "accepted")
    )
    voided = last_event(c, "journey.reinterview").data["voided"]
    assert voided["times"]["timer_started_at"] == started.isoformat()
    assert voided["sheets"][0]["items"] and voided["sheets"][0]["status"] == "submitted"
    assert voided["result"]["final_score"] == "31.50"
    # Head of the queue, before lower lots and before anyone else.
    assert next_to_call(world.panel.id).id == c.id


def test_reinterview_of_a_resting_candidate_while_another_is_interviewing(world):
    first, second = world.candidates[:2]
    waiting_with_lot(world, first)
    waiting_with_lot(world, second)
    at = cutoff(world)
    done_one = next_to_call(world.panel.id)
    resting(world, done_one, at)
    in_room = interviewing(world, next_to_call(world.panel.id), at + timedelta(minutes=10))
    back = perform(
        done_one.id, "reinterview", hr(world), at + timedelta(minutes=12), reason="录像中断"
    )
    # To the head of the queue, not into the room: the room is someone else's.
    assert back.state == S.WAITING and fresh(in_room).state == S.INTERVIEWING
    with refusal("room_busy"):
        perform(back.id, "call_interview", chief(world), at + timedelta(minutes=13))
    perform(in_room.id, "finish", chief(world), at + timedelta(minutes=14))
    assert next_to_call(world.panel.id).id == back.id
    # Once she accepts the call, her place at the head is used up.
    perform(back.id, "call_interview", chief(world), at + timedelta(minutes=15))
    back = perform(
        back.id, "accept_interview", world.as_candidate(back), at + timedelta(minutes=15)
    )
    assert back.requeued_at is None


def test_a_lapsed_call_after_a_reinterview_clears_her_place_at_the_head(world):
    c, other = world.candidates[:2]
    c = interviewing(world, c)
    waiting_with_lot(world, other)
    at = c.deadline_at - timedelta(minutes=5)
    perform(c.id, "reinterview", chief(world), at, reason="断线")
    perform(c.id, "call_interview", chief(world), at + timedelta(minutes=1))
    c = settle(fresh(c), at + timedelta(minutes=5))
    assert c.state == S.WAITING and c.requeued_at is None
    assert next_to_call(world.panel.id).id == other.id  # she missed a call: 顺延


def test_reinterview_is_refused_after_release_and_after_publication(world):
    c, other = world.candidates[:2]
    resting(world, c)
    perform(c.id, "release", Actor.staff(world.assistant), cutoff(world, 20))
    with refusal("reinterview_released") as caught:
        perform(c.id, "reinterview", hr(world), cutoff(world, 21), reason="x")
    assert "泄题" in caught.value.message
    resting(world, other, cutoff(world, 30))
    db.session.add(
        CandidateResult(
            candidate_id=other.id, final_score=Decimal(80), published_at=cutoff(world, 40)
        )
    )
    db.session.commit()
    with refusal("reinterview_published"):
        perform(other.id, "reinterview", hr(world), cutoff(world, 41), reason="x")
    assert fresh(other).state == S.RESTING


def test_reinterview_is_for_hr_and_the_chief_only(world):
    c = interviewing(world, world.candidates[0])
    for actor in (Actor.staff(world.assistant), Actor.staff(world.examiner), Actor.system()):
        with refusal("not_allowed"):
            perform(c.id, "reinterview", actor, c.timer_started_at, reason="x")
    with refusal("wrong_state"):
        perform(world.candidates[1].id, "reinterview", hr(world), world.now, reason="x")


# --- extend_interview ----------------------------------------------------------------------


def test_extend_a_running_interview(world):
    c = interviewing(world, world.candidates[0])
    deadline = c.deadline_at
    at = deadline - timedelta(minutes=2)
    c = perform(c.id, "extend_interview", chief(world), at, reason="卡顿3分钟", minutes="3")
    assert c.deadline_at == deadline + timedelta(minutes=3)
    c = perform(c.id, "extend_interview", hr(world), at, reason="再次卡顿", minutes=2)
    assert c.deadline_at == deadline + timedelta(minutes=5)
    # Past the old deadline she is still interviewing.
    assert settle(fresh(c), deadline + timedelta(minutes=1)).state == S.INTERVIEWING
    event = last_event(c, "journey.extend_interview")
    assert event.data["minutes"] == 2 and event.data["reason"] == "再次卡顿"


@pytest.mark.parametrize("minutes", ["", "0", "31", "abc", "2.5", "-1", None, True])
def test_extend_minutes_must_be_whole_from_1_to_30(world, minutes):
    c = interviewing(world, world.candidates[0])
    with refusal("extend_minutes_invalid", low=1, high=30):
        perform(
            c.id, "extend_interview", chief(world), c.timer_started_at, reason="x", minutes=minutes
        )
    assert fresh(c).deadline_at == c.deadline_at


def test_extend_is_refused_once_the_time_is_up_or_before_the_timer(world):
    c = interviewing(world, world.candidates[0])
    late = c.deadline_at + timedelta(seconds=1)
    with refusal("extend_time_up") as caught:
        perform(c.id, "extend_interview", hr(world), late, reason="x", minutes=5)
    assert "重新面试" in caught.value.message
    assert fresh(c).state == S.FINISHED  # settle ended it at zero
    other = interviewing(world, world.candidates[1], cutoff(world, 20), start=False)
    with refusal("extend_not_started"):
        perform(
            other.id, "extend_interview", chief(world), cutoff(world, 21), reason="x", minutes=5
        )
    with refusal("wrong_state"):
        perform(
            world.candidates[2].id, "extend_interview", hr(world), world.now, reason="x", minutes=5
        )


def test_extend_with_the_deadline_the_page_showed(world):
    c = interviewing(world, world.candidates[0])
    deadline = c.deadline_at
    seen = deadline.isoformat()
    at = c.timer_started_at + timedelta(minutes=1)
    perform(c.id, "extend_interview", hr(world), at, reason="x", minutes=5, seen_deadline=seen)
    with refusal("extend_seen_changed") as caught:
        perform(
            c.id, "extend_interview", chief(world), at, reason="y", minutes=5, seen_deadline=seen
        )
    assert "再次提交" in caught.value.message
    assert fresh(c).deadline_at == deadline + timedelta(minutes=5)


def test_extend_is_for_hr_and_the_chief_only(world):
    c = interviewing(world, world.candidates[0])
    for actor in (Actor.staff(world.assistant), Actor.staff(world.examiner)):
        with refusal("not_allowed"):
            perform(c.id, "extend_interview", actor, c.timer_started_at, reason="x", minutes=5)


# --- move_panel ----------------------------------------------------------------------------


def test_move_a_waiting_candidate_before_the_cutoff_she_draws_again(world):
    other = second_panel(world)
    c = waiting_with_lot(world, world.candidates[0])
    versions = {p.id: p.queue_version for p in (world.panel, other)}
    c = perform(
        c.id,
        "move_panel",
        hr(world),
        world.now + timedelta(minutes=5),
        reason="本考场设备故障",
        panel_id=str(other.id),
    )
    assert c.panel_id == other.id and c.lot_number is None and c.state == S.WAITING
    for panel in (world.panel, other):
        assert (
            db.session.get(Panel, panel.id, populate_existing=True).queue_version
            > versions[panel.id]
        )
    event = last_event(c, "journey.move_panel")
    assert (event.data["from_panel"], event.data["to_panel"]) == ("第一考场", "第二考场")
    c = perform(c.id, "draw_lot", world.as_candidate(c), world.now + timedelta(minutes=6))
    assert c.lot_number is not None


def test_move_after_the_cutoff_gives_a_lot_after_those_drawn(world):
    other = second_panel(world)
    extra_candidate(world, S.WAITING, lot=4, panel=other)
    c = waiting_with_lot(world, world.candidates[0])
    c = perform(c.id, "move_panel", hr(world), cutoff(world), reason="x", panel_id=other.id)
    assert c.panel_id == other.id and c.lot_number == 5 and c.lot_assigned


def test_move_panel_refusals(world):
    other = second_panel(world)
    c = waiting_with_lot(world, world.candidates[0])
    with refusal("move_same_panel"):
        perform(c.id, "move_panel", hr(world), world.now, reason="x", panel_id=world.panel.id)
    foreign_exam = gen_exam("另一场考试")
    foreign = Panel(
        exam_id=foreign_exam.id,
        name="外场",
        interview_room="a",
        rest_room="b",
        rest_room_code="777777",
    )
    db.session.add(foreign)
    db.session.commit()
    for target in (foreign.id, 999999, "abc", ""):
        with refusal("move_other_exam"):
            perform(c.id, "move_panel", hr(world), world.now, reason="x", panel_id=target)
    unstaffed = Panel(
        exam_id=world.exam.id,
        name="第三考场",
        interview_room="c",
        rest_room="d",
        rest_room_code="777776",
    )
    db.session.add(unstaffed)
    db.session.commit()
    with refusal("move_target_unstaffed") as caught:
        perform(c.id, "move_panel", hr(world), world.now, reason="x", panel_id=unstaffed.id)
    assert "主考官" in caught.value.message and "面试助理" in caught.value.message
    with refusal("move_panel_changed"):
        perform(
            c.id,
            "move_panel",
            hr(world),
            world.now,
            reason="x",
            panel_id=other.id,
            from_panel_seen=other.id,
        )
    for actor in (chief(world), Actor.staff(world.assistant)):
        with refusal("not_allowed"):
            perform(c.id, "move_panel", actor, world.now, reason="x", panel_id=other.id)
    exam_wide_questions(world)
    extra_candidate(world, S.RELEASED, lot=1, panel=other)
    with refusal("move_questions_out", panel="第二考场"):
        perform(c.id, "move_panel", hr(world), world.now, reason="x", panel_id=other.id)
    assert fresh(c).panel_id == world.panel.id


def test_move_panel_is_for_the_waiting_room_only(world):
    other = second_panel(world)
    c = world.to_debug_waiting(world.candidates[0])
    with refusal("wrong_state"):
        perform(c.id, "move_panel", hr(world), world.now, reason="x", panel_id=other.id)


# --- undo_disqualification -----------------------------------------------------------------


def _disqualify(world, c, at, by=None):
    return perform(c.id, "disqualify", by or hr(world), at, reason="违纪（误判）")


def test_undo_back_to_the_waiting_room(world):
    c = waiting_with_lot(world, world.candidates[0])
    lot = c.lot_number
    _disqualify(world, c, world.now + timedelta(minutes=3))
    c = perform(
        c.id, "undo_disqualification", chief(world), world.now + timedelta(minutes=4), reason="误判"
    )
    assert c.state == S.WAITING and c.lot_number == lot
    event = last_event(c, "journey.undo_disqualification")
    assert event.data["disqualified_from"] == S.WAITING and event.data["reason"] == "误判"


def test_undo_during_a_running_interview_counts_it_finished(world):
    c = interviewing(world, world.candidates[0])
    at = c.timer_started_at + timedelta(minutes=4)
    _disqualify(world, c, at, by=chief(world))
    c = perform(c.id, "undo_disqualification", hr(world), at + timedelta(minutes=30), reason="误判")
    assert c.state == S.FINISHED and c.finished_at == at
    assert not db.session.scalar(
        select(func.count(Call.id)).where(Call.candidate_id == c.id, Call.outcome == "accepted")
    )


def test_undo_before_the_timer_or_while_ringing_puts_her_first_in_the_queue(world):
    c, ringing = world.candidates[:2]
    c = interviewing(world, c, start=False)
    _disqualify(world, c, cutoff(world, 2))
    c = perform(c.id, "undo_disqualification", hr(world), cutoff(world, 3), reason="误判")
    assert c.state == S.WAITING and c.requeued_at == cutoff(world, 3)
    waiting_with_lot(world, ringing)
    perform(c.id, "call_interview", chief(world), cutoff(world, 4))
    _disqualify(world, c, cutoff(world, 4))
    c = perform(c.id, "undo_disqualification", hr(world), cutoff(world, 5), reason="误判")
    assert c.state == S.WAITING
    assert (
        db.session.scalar(
            select(Call.outcome).where(Call.candidate_id == c.id).order_by(Call.id.desc()).limit(1)
        )
        == "cancelled"
    )


def test_undo_from_the_debug_call_and_before_entry_past_the_cutoff(world):
    c, early = world.candidates[:2]
    world.to_debug_waiting(c)
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    _disqualify(world, c, world.now)
    c = perform(c.id, "undo_disqualification", hr(world), world.now, reason="误判")
    assert c.state == S.DEBUG_WAITING and c.reinstated_at is None  # before the cut-off
    perform(early.id, "confirm", world.as_candidate(early), world.now)
    _disqualify(world, early, world.now)
    early = perform(early.id, "undo_disqualification", hr(world), cutoff(world), reason="误判")
    assert early.state == S.CONFIRMED and early.reinstated_at == cutoff(world)


def test_undo_needs_a_disqualification_on_record_and_the_right_people(world):
    c = extra_candidate(world, S.DISQUALIFIED, lot=3)
    with refusal("undo_no_disqualification"):
        perform(c.id, "undo_disqualification", hr(world), world.now, reason="x")
    d = world.candidates[0]
    _disqualify(world, d, world.now)
    for actor in (Actor.staff(world.assistant), Actor.staff(world.examiner)):
        with refusal("not_allowed"):
            perform(d.id, "undo_disqualification", actor, world.now, reason="x")


# --- the timeline ----------------------------------------------------------------------------


def test_the_timeline_says_each_override_in_words_with_its_reason(world):
    c = interviewing(world, world.candidates[0])
    at = c.timer_started_at + timedelta(minutes=1)
    perform(c.id, "extend_interview", chief(world), at, reason="考生端卡顿", minutes=4)
    perform(c.id, "reinterview", hr(world), at, reason="视频中断")
    _disqualify(world, c, at)
    perform(c.id, "undo_disqualification", hr(world), at, reason="误判撤销")
    lines = {entry.event.kind: entry for entry in timeline(fresh(c))}
    extend = lines["journey.extend_interview"]
    assert "平台故障延长面试 4 分钟" in extend.label and "结束时间改为" in extend.label
    assert ("原因", "考生端卡顿") in extend.details
    assert "平台故障重新面试" in lines["journey.reinterview"].label
    assert "作废" in lines["journey.reinterview"].label
    assert "撤销取消资格" in lines["journey.undo_disqualification"].label
    assert ("原因", "误判撤销") in lines["journey.undo_disqualification"].details


# --- two staff at once (PostgreSQL) -----------------------------------------------------------


def _postgres_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite allows one writer at a time)")


def _race(app, actions):
    def attempt(i):
        try:
            actions[i]()
            return "ok"
        except Refused as refused:
            return refused.code

    return at_once(app, len(actions), attempt)


def _staff(username):
    return Actor.staff(db.session.scalar(select(User).where(User.username == username)))


def test_chief_and_hr_reinterviewing_at_once_exactly_one_wins(app, world):
    _postgres_only()
    c = interviewing(world, world.candidates[0])
    at = c.timer_started_at + timedelta(minutes=1)
    results = _race(
        app,
        [
            lambda: perform(c.id, "reinterview", _staff("chief"), at, reason="a"),
            lambda: perform(c.id, "reinterview", _staff("hr"), at, reason="b"),
        ],
    )
    assert sorted(results) == ["ok", "wrong_state"], results
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.kind == "journey.reinterview")
        )
        == 1
    )


def test_two_hr_moving_a_candidate_at_once_exactly_one_wins(app, world):
    _postgres_only()
    other = second_panel(world)
    third = Panel(
        exam_id=world.exam.id,
        name="第三考场",
        interview_room="x",
        rest_room="y",
        rest_room_code="777775",
    )
    db.session.add(third)
    db.session.flush()
    third.chief_examiner_id = gen_user("chief3", role=Role.EXAMINER).id
    helper = gen_user("assistant3", role=Role.ASSISTANT)
    db.session.add(PanelMember(panel_id=third.id, user_id=helper.id, role="assistant"))
    gen_user("hr2", role=Role.HR)
    c = waiting_with_lot(world, world.candidates[0])
    source = world.panel.id

    def move(username, target):
        return lambda: perform(
            c.id,
            "move_panel",
            _staff(username),
            world.now,
            reason="x",
            panel_id=target,
            from_panel_seen=source,
        )

    results = _race(app, [move("hr", other.id), move("hr2", third.id)])
    assert sorted(results) == ["move_panel_changed", "ok"], results
    assert fresh(c).panel_id in (other.id, third.id)


def test_two_extending_at_once_from_the_same_page_extend_once(app, world):
    _postgres_only()
    c = interviewing(world, world.candidates[0])
    deadline = c.deadline_at
    at, seen = c.timer_started_at + timedelta(minutes=1), deadline.isoformat()
    results = _race(
        app,
        [
            lambda name=name: perform(
                c.id,
                "extend_interview",
                _staff(name),
                at,
                reason="卡顿",
                minutes=5,
                seen_deadline=seen,
            )
            for name in ("chief", "hr")
        ],
    )
    assert sorted(results) == ["extend_seen_changed", "ok"], results
    assert fresh(c).deadline_at == deadline + timedelta(minutes=5)
    # Without the page's deadline (a script), both extensions apply, one after the other.
    results = _race(
        app,
        [
            lambda name=name: perform(
                c.id, "extend_interview", _staff(name), at, reason="x", minutes=2
            )
            for name in ("chief", "hr")
        ],
    )
    assert results == ["ok", "ok"], results
    assert fresh(c).deadline_at == deadline + timedelta(minutes=9)
