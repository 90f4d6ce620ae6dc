"""The candidate's way through the rooms: every allowed move, who may make it, and its guard.

This is the only place that changes `Candidate.state`. Routes and jobs call `perform()`; tests
call it directly. A move is one transaction: the candidate row is compare-and-set on its
`version` (two staff clicking at once: exactly one wins, the other is refused), moves that touch
a panel's queue first update the panel row (which serialises them on PostgreSQL and SQLite), and
every move writes an audit event in the same transaction.

Time rules are applied lazily by `settle()` (a lapsed call, the entry cut-off, an expired
confirmation deadline, an interview whose countdown reached zero) whenever a candidate or a
queue is looked at, and by a periodic job; applying them twice changes nothing.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from flask_babel import gettext
from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from app import audit, db
from app.day.overrides import EXTEND_MINUTES, OVERRIDE_ROLES
from app.day.schedule import waiting_opens_at
from app.faces import stills as face_stills
from app.jitsi.rooms import new_room_name
from app.models import (
    AuditEvent,
    Call,
    Candidate,
    CandidateResult,
    Exam,
    ExaminerScore,
    Notice,
    NoticeAck,
    Panel,
    PanelMember,
    PanelRole,
    User,
)
from app.models.candidate import (
    BEFORE_DEBUG,
    FINAL,
    IN_DEBUG,
    IN_INTERVIEW,
    NOT_FINAL,
    RINGING,
    STILL_IN_AFTER_CUTOFF,
    STILL_TO_INTERVIEW,
)
from app.models.candidate import CandidateState as S
from app.refusals import Refused, message_of
from app.setup.question_sharing import panels_sharing_questions, questions_out
from app.timeutil import bj_when, format_beijing, utcnow

# A move that does not fit the candidate's state, the actor or the clock raises Refused(code);
# the words are in app/refusals.py. Imported from here by the routes that perform moves.


@dataclass(frozen=True)
class Actor:
    kind: str  # candidate | staff | system
    user: User | None = None
    candidate_id: int | None = None

    @classmethod
    def system(cls) -> "Actor":
        return cls("system")

    @classmethod
    def staff(cls, user: User) -> "Actor":
        return cls("staff", user=user)

    @classmethod
    def of_candidate(cls, candidate: Candidate) -> "Actor":
        return cls("candidate", candidate_id=candidate.id)


# Who may make a move: the candidate themself, the panel's assistant, its chief examiner,
# HR/admin, or the system (time rules).
CANDIDATE, ASSISTANT, CHIEF, HR, SYSTEM = "candidate", "assistant", "chief", "hr", "system"


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset[str]
    target: str | None  # None: the state stays (the move changes something else)
    by: frozenset[str]
    touches_queue: bool = False
    guard: Callable | None = None
    effect: Callable | None = None
    # A move that brings the candidate into another panel's queue names the param that holds
    # that panel's id: both queues are touched, lower id first (two such moves never deadlock).
    other_queue_param: str | None = None
    # A move that lets someone out who heard the questions (release), or brings someone back
    # before their interview (the overrides), reads the other side's rows across every panel
    # that shares a 题本 with hers: it locks all of those panels' rows first, so that a release
    # and a reinstatement in two sharing panels at once are one after the other, never both
    # judged on what the other had not yet written.
    locks_sharing_panels: bool = False


@dataclass
class Context:
    candidate: Candidate
    exam: Exam
    actor: Actor
    now: datetime
    params: dict = field(default_factory=dict)

    @property
    def panel_id(self) -> int:
        """The candidate's panel, for the moves after enter_debug: that move needs a panel
        (NO_PANEL) and HR moves only candidates before debug (MOVABLE), so they always have one."""
        panel_id = self.candidate.panel_id
        assert panel_id is not None, "a candidate past enter_debug has a panel"
        return panel_id

    @property
    def staff(self) -> User:
        """The acting staff member, for the moves only the panel's staff make (ASSISTANT, CHIEF:
        `_actor_roles` grants those to a staff actor only)."""
        user = self.actor.user
        assert user is not None, "a staff role comes with a staff actor"
        return user


# --- guards: raise Refused with a message the person can act on --------------------------------


def _confirm_open(ctx: Context) -> None:
    deadline = ctx.exam.confirm_deadline_at
    if deadline is not None and ctx.now >= deadline:
        raise Refused("confirm_closed")


def _nothing_missing_before_debug(ctx: Context) -> None:
    missing = missing_before_debug(ctx.candidate, ctx.exam)
    if missing:
        raise Refused(missing[0].code)


def _second_camera_on(ctx: Context) -> None:
    # No cut-off here: whoever was debugged was in the debug queue by the cut-off and may enter
    # after it (公平截止), with a lot after the drawn ones (`_enter_waiting`). The phone is not in
    # any call between the debug call and the interview, so what lets her in is the assistant's
    # check of it during the debug call (辅机位已核验), never a ping.
    if ctx.exam.requires_second_camera and ctx.candidate.second_camera_verified_at is None:
        raise Refused("second_camera_unverified")


def _second_camera_checked_if_required(ctx: Context) -> None:
    if ctx.exam.requires_second_camera and ctx.candidate.second_camera_verified_at is None:
        raise Refused("second_camera_check_first")


def _may_verify_second_camera(ctx: Context) -> None:
    if ctx.candidate.second_camera_verified_at is not None:
        raise Refused("second_camera_already_verified")
    # Connected: a staff page in this debug call saw the phone join and the phone reports its
    # camera on (app/day/second_camera.py); the assistant's own look is the rest of the check.
    if not second_camera_connected(ctx.candidate, ctx.now):
        raise Refused("second_camera_not_in_call")


def _verify_second_camera(ctx: Context) -> None:
    ctx.candidate.second_camera_verified_at = ctx.now


def past_cutoff(exam: Exam, now: datetime) -> bool:
    cutoff = exam.entry_cutoff_at
    return cutoff is not None and now >= cutoff


def _after_cutoff(ctx: Context) -> None:
    # Before the cut-off a quiet candidate in the debug queue may still come back and enter.
    if not past_cutoff(ctx.exam, ctx.now):
        raise Refused("debug_absent_before_cutoff")


def _after_cutoff_with_reason(ctx: Context) -> None:
    _after_cutoff(ctx)
    _reason_given(ctx)


def _not_reinstated(ctx: Context) -> None:
    if ctx.candidate.reinstated_at is not None:
        raise Refused("reinstated")


def _both(first: Callable, second: Callable) -> Callable:
    """Two guards, in order (a move with a schedule gate besides its own rule)."""

    def guard(ctx: Context) -> None:
        first(ctx)
        second(ctx)

    guard.__name__ = f"{first.__name__}+{second.__name__}"
    return guard


def _in_login_window(ctx: Context) -> None:
    # Signed in during the 确认期, days before: confirming, notices and the ID photo, yes; the
    # debug room only on the exam day, when an assistant is there.
    exam = ctx.exam
    if ctx.now < exam.login_opens_at:
        raise Refused("debug_room_not_open", opens=bj_when(exam.login_opens_at, ctx.now))
    if ctx.now >= exam.login_closes_at:
        raise Refused("debug_room_closed")


def _waiting_room_open(ctx: Context) -> None:
    # 开考前N分钟【进入考试】按钮将自动激活 (SEED 001).
    opens = waiting_opens_at(ctx.exam)
    if opens is not None and ctx.now < opens:
        raise Refused("waiting_room_not_open", opens=bj_when(opens, ctx.now))


def _call_not_lapsed(ctx: Context) -> None:
    call = ringing_call(ctx.candidate)
    if call is None or ctx.now >= call.accept_by:
        raise Refused("call_lapsed")


def _identity_checked(ctx: Context) -> None:
    if ctx.candidate.identity_checked_at is None:
        raise Refused("identity_unchecked")


def _may_draw(ctx: Context) -> None:
    if ctx.candidate.lot_number is not None:
        raise Refused("already_drawn", lot=ctx.candidate.lot_number)


def _next_in_lot_order(ctx: Context) -> None:
    cutoff = ctx.exam.entry_cutoff_at
    if cutoff is not None and ctx.now < cutoff:
        raise Refused("before_cutoff")
    busy = db.session.scalar(
        select(Candidate.id).where(
            Candidate.panel_id == ctx.candidate.panel_id,
            Candidate.state.in_(IN_INTERVIEW),
        )
    )
    if busy is not None:
        raise Refused("room_busy")
    if ctx.candidate.lot_number is None:
        raise Refused("no_lot")
    first = next_to_call(ctx.panel_id)
    if first is not None and first.id != ctx.candidate.id:
        raise Refused("not_your_turn", lot=first.lot_number)


def _timer_not_started(ctx: Context) -> None:
    if ctx.candidate.timer_started_at is not None:
        raise Refused("timer_running")


def _timer_started(ctx: Context) -> None:
    if ctx.candidate.timer_started_at is None:
        raise Refused("timer_not_started")
    # 看题时间: the candidate may end early only once answering; the chief may end at any time.
    if ctx.actor.kind == "candidate" and in_reading_time(ctx.candidate, ctx.now):
        raise Refused("reading_time_no_finish")
    # 不允许提前交卷 (SEED 004): only the clock ends the interview; at zero anyone may settle it.
    deadline = ctx.candidate.deadline_at
    if (
        ctx.actor.kind != "system"
        and not ctx.exam.allow_early_finish
        and (deadline is None or ctx.now < deadline)
    ):
        raise Refused("early_finish_off")


def in_reading_time(candidate: Candidate, now: datetime) -> bool:
    """Between the chief's start and the answering countdown (题本 shown, clock not yet running)."""
    return candidate.timer_started_at is not None and now < candidate.timer_started_at


def _no_other_debug_call(ctx: Context) -> None:
    # One debug call at a time per assistant: a second ringing candidate would wait in a room
    # nobody is watching.
    busy = live_debug_call(ctx.staff.id, ctx.candidate.panel_id, now=ctx.now)
    if busy is not None and busy.candidate_id != ctx.candidate.id:
        raise Refused("debug_call_busy")
    if assistant_spot_check(ctx.staff.id, ctx.now) is not None:
        raise Refused("assistant_call_busy")


def _reason_given(ctx: Context) -> None:
    if not (ctx.params.get("reason") or "").strip():
        raise Refused("reason_required")


# --- effects: what a move changes besides the state ---------------------------------------------


def _ring(kind: str) -> Callable:
    def effect(ctx: Context) -> None:
        _spot_check_gives_way(ctx, kind)
        room = ctx.params.get("room") or (
            _interview_room(ctx) if kind == "interview" else _debug_room(ctx.candidate)
        )
        db.session.add(
            Call(
                candidate_id=ctx.candidate.id,
                panel_id=ctx.candidate.panel_id,
                kind=kind,
                room=room,
                called_by_id=ctx.actor.user.id if ctx.actor.user else None,
                called_at=ctx.now,
                accept_by=ctx.now + timedelta(seconds=ctx.exam.call_accept_seconds),
            )
        )

    return effect


def _interview_room(ctx: Context) -> str:
    panel = ctx.candidate.panel
    assert panel is not None, "a candidate past enter_debug has a panel"
    return panel.interview_room


def _debug_room(candidate: Candidate) -> str:
    # A fresh room per debug call: the candidate sees its name in the page, so it must not
    # reveal the panel's interview room.
    return new_room_name(f"ir-e{candidate.exam_id}")


def _close_call(outcome: str) -> Callable:
    def effect(ctx: Context) -> None:
        call = current_call(ctx.candidate)
        if call is not None:
            call.outcome = outcome
            if outcome == "accepted":
                call.accepted_at = ctx.now
            else:
                call.ended_at = ctx.now
        if outcome == "lapsed":
            ctx.candidate.missed_calls += 1

    return effect


def _confirm(ctx: Context) -> None:
    ctx.candidate.confirmed_at = ctx.now


def _decline(ctx: Context) -> None:
    ctx.candidate.declined_at = ctx.now


def _face_verdict_noted(ctx: Context) -> None:
    # 人脸核验 measures, the assistant decides: she may confirm against a 不一致, with a note on
    # what she checked (the ID card held to the camera, a changed appearance...).
    still = face_stills.still_for_identity_check(ctx.candidate.id, ctx.params.get("still_id"))
    if still is not None and still.verdict == "mismatch" and not ctx.params.get("note"):
        raise Refused("face_mismatch_note_required")


def _check_identity(ctx: Context) -> None:
    ctx.candidate.identity_checked_at = ctx.now
    # The still she saw becomes the day's reference for the interview and the rest room.
    still = face_stills.still_for_identity_check(ctx.candidate.id, ctx.params.get("still_id"))
    if still is not None:
        still.is_reference = True
        ctx.params.update(still_id=still.id, face_verdict=still.verdict, distance=still.distance)


def _debugged(ctx: Context) -> None:
    _close_call("ended")(ctx)
    ctx.candidate.debugged_at = ctx.now


def _enter_waiting(ctx: Context) -> None:
    ctx.candidate.waiting_since = ctx.now
    # Late (debugged after the cut-off): the lot order is already final, so a lot after everyone's.
    _lot_after_cutoff(ctx, ctx.panel_id)
    if "lot" in ctx.params:
        audit.record(
            "journey.lot_assigned", candidate=ctx.candidate, lot=ctx.candidate.lot_number, late=True
        )


def _assign_lots_in_panel(panel_id: int) -> int:
    """Inside the caller's transaction, the panel row already locked: a random lot for whoever
    waits without one; how many got one. Rows are read afresh: the lock may have waited for
    another assignment."""
    waiting = db.session.scalars(
        select(Candidate)
        .where(
            Candidate.panel_id == panel_id,
            Candidate.state == S.WAITING,
            Candidate.lot_number.is_(None),
        )
        .execution_options(populate_existing=True)
    ).all()
    for candidate in waiting:
        candidate.lot_number = _random_free_lot(panel_id)
        candidate.lot_assigned = True
        db.session.flush()
        audit.record("journey.lot_assigned", candidate=candidate, lot=candidate.lot_number)
    return len(waiting)


def _draw(ctx: Context) -> None:
    ctx.candidate.lot_number = _random_free_lot(ctx.panel_id)
    ctx.candidate.lot_assigned = False


def _start_timer(ctx: Context) -> None:
    if _mark_interviews_started(ctx.exam.id, ctx.now):
        # The first start waited for any save of the exam form under way: time by what it saved.
        db.session.refresh(
            ctx.exam, ["minutes_per_candidate", "reading_minutes", "interviews_started_at"]
        )
    reading = timedelta(minutes=ctx.exam.reading_minutes)
    ctx.candidate.reading_started_at = ctx.now
    ctx.candidate.timer_started_at = ctx.now + reading
    ctx.candidate.deadline_at = (
        ctx.now + reading + timedelta(minutes=ctx.exam.minutes_per_candidate)
    )


def _mark_interviews_started(exam_id: int, now: datetime) -> bool:
    """From the exam's first interview clock on, the settings interviews run by are frozen
    (app/setup/exams.py). One conditional UPDATE: two panels starting at once set it once, and
    a later start never moves it. True for the start that set it."""
    result = db.session.execute(
        update(Exam)
        .where(Exam.id == exam_id, Exam.interviews_started_at.is_(None))
        .values(interviews_started_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _finish(ctx: Context) -> None:
    _close_call("ended")(ctx)
    # At zero the candidate is out at the deadline itself, even when settled later.
    deadline = ctx.candidate.deadline_at
    ctx.candidate.finished_at = min(ctx.now, deadline) if deadline else ctx.now


def _accept_interview(ctx: Context) -> None:
    _close_call("accepted")(ctx)
    # A re-interview's place at the head of the queue is used up once she is in the room.
    ctx.candidate.requeued_at = None


def _lapse_interview_call(ctx: Context) -> None:
    _close_call("lapsed")(ctx)
    # Called first after a platform fault and did not come: she queues like anyone who missed
    # a call, else she would hold the head of the queue for ever.
    ctx.candidate.requeued_at = None


def _send_back(ctx: Context) -> None:
    _close_call("cancelled")(ctx)


def _called_and_missed(ctx: Context) -> None:
    # 中途退出视为放弃: only someone who was called and did not come, never someone not yet called.
    missed = db.session.scalar(
        select(Call.id)
        .where(Call.candidate_id == ctx.candidate.id, *MISSED_INTERVIEW_CALL)
        .limit(1)
    )
    if missed is None:
        raise Refused("no_missed_call")


@dataclass(frozen=True)
class ReleaseHold:
    """Who keeps a rest room closed: the panel (this one first) and how many it has still to
    interview."""

    panel_id: int
    panel_name: str
    left: int
    own: bool  # the rest room's own panel

    @property
    def refusal(self) -> Refused:
        if self.own:
            return Refused("panel_not_done", left=self.left)
        return Refused("sharing_panel_not_done", panel=self.panel_name, left=self.left)


def still_to_interview_clause(exam: Exam, now: datetime) -> ColumnElement[bool]:
    """Who is still to be interviewed. Before the cut-off anyone not yet done may still come;
    past it, whoever was not in the debug queue is absent (settled lazily), unless the exam
    office reinstated them."""
    if not past_cutoff(exam, now):
        return Candidate.state.in_(STILL_TO_INTERVIEW)
    return or_(
        Candidate.state.in_(STILL_IN_AFTER_CUTOFF),
        and_(Candidate.state.in_(BEFORE_DEBUG), Candidate.reinstated_at.is_not(None)),
    )


def release_hold(panel_id: int, exam: Exam, now: datetime) -> ReleaseHold | None:
    """What keeps this panel's rest room closed, if anything. The rest room exists so that no one
    tells the questions to those still waiting (SPEC): of this panel, and of every panel that
    hears a question set this one uses (an exam-wide 题本). A constant number of queries (the
    assistant's board asks on every poll)."""
    panels = panels_sharing_questions(panel_id)
    ids = [p.id for p in panels] or [panel_id]
    counts = dict(
        db.session.execute(
            select(Candidate.panel_id, func.count(Candidate.id))
            .where(Candidate.panel_id.in_(ids), still_to_interview_clause(exam, now))
            .group_by(Candidate.panel_id)
        ).all()
    )
    if counts.get(panel_id):
        return ReleaseHold(panel_id, "", counts[panel_id], own=True)
    for panel in panels:
        if counts.get(panel.id):
            return ReleaseHold(panel.id, panel.name, counts[panel.id], own=False)
    return None


def release_refused(panel_id: int, exam: Exam, now: datetime) -> Refused | None:
    """Why nobody of this panel may leave the rest room yet, if so (`release_hold`)."""
    hold = release_hold(panel_id, exam, now)
    return hold.refusal if hold is not None else None


def release_refusal(panel_id: int, exam: Exam, now: datetime) -> str | None:
    """release_refused's words, for the assistant's release-all (one answer for the room)."""
    refusal = release_refused(panel_id, exam, now)
    return refusal.message if refusal is not None else None


def _nobody_still_to_interview(ctx: Context) -> None:
    refusal = release_refused(ctx.panel_id, ctx.exam, ctx.now)
    if refusal is not None:
        raise refusal


def _release(ctx: Context) -> None:
    ctx.candidate.released_at = ctx.now


# --- overrides (考务处置): the exam office's ways back ---------------------------------------------
# Who may make each is one table, app/day/overrides.py. Each needs a reason (audited with the
# params), and none brings anyone into a queue whose questions may already be out.

# The earlier attempt's clock: voided by a re-interview (its full values go into the audit).
ATTEMPT_TIMES = ("reading_started_at", "timer_started_at", "deadline_at", "finished_at")


def _whole_number(value) -> int | None:
    """A form's or a caller's whole number, or None (a bool, a fraction or words are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _set_state(ctx: Context, state: str) -> None:
    if ctx.candidate.state != state:
        ctx.candidate.state = state
        ctx.candidate.state_changed_at = ctx.now


def _close_live_calls(candidate: Candidate, now: datetime) -> None:
    """A call left ringing or running by a move that took her out of it ends now."""
    for call in db.session.scalars(
        select(Call).where(Call.candidate_id == candidate.id, Call.outcome.in_(LIVE_CALL))
    ):
        call.outcome = "ended" if call.outcome == "accepted" else "cancelled"
        call.ended_at = now


def _end_live_calls(ctx: Context) -> None:
    # A disqualified candidate's call is over: left ringing, her page could still accept it.
    _close_live_calls(ctx.candidate, ctx.now)


def _lot_after_cutoff(ctx: Context, panel_id: int) -> None:
    """Past the cut-off whoever comes (back) into a queue gets a lot after those drawn: nobody
    else's turn moves. Before it she draws like everyone (keeping a lot she drew). Those waiting
    without a lot at the cut-off get theirs first (the panel row is locked: `touches_queue`)."""
    if past_cutoff(ctx.exam, ctx.now):
        _assign_lots_in_panel(panel_id)
        ctx.candidate.lot_number = lot_after_drawn(panel_id)
        ctx.candidate.lot_assigned = True
        ctx.params["lot"] = ctx.candidate.lot_number


def _reinstate_guard(ctx: Context) -> None:
    _reason_given(ctx)
    # Someone of a panel hearing the same questions has left the rest room: she could have
    # been told them. Without a panel she goes back to 已确认 only, before any queue.
    out = questions_out(ctx.candidate.panel_id) if ctx.candidate.panel_id is not None else None
    if out is not None:
        raise Refused("reinstate_questions_out", panel=out.panel.name, released=out.released)


def _reinstate(ctx: Context) -> None:
    """Back to where she was when taken out: in the waiting room, debugged, or confirmed."""
    c = ctx.candidate
    if c.panel_id is not None and c.waiting_since is not None:
        _set_state(ctx, S.WAITING)
        _lot_after_cutoff(ctx, c.panel_id)
    elif c.panel_id is not None and c.debugged_at is not None:
        _set_state(ctx, S.DEBUGGED)
    else:
        _set_state(ctx, S.CONFIRMED)
        c.confirmed_at = c.confirmed_at or ctx.now
    # The cut-off no longer makes her absent (the time rule skips reinstated candidates).
    c.reinstated_at = ctx.now


def _reinterview_guard(ctx: Context) -> None:
    _reason_given(ctx)
    if ctx.candidate.state == S.RELEASED:
        raise Refused("reinterview_released")
    result = db.session.scalar(
        select(CandidateResult).where(CandidateResult.candidate_id == ctx.candidate.id)
    )
    if result is not None and result.published_at is not None:
        raise Refused("reinterview_published")


def _text(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _attempt_snapshot(candidate: Candidate) -> tuple[dict, list]:
    """The earlier attempt as plain values (for the audit log), and the rows to delete."""
    sheets = db.session.scalars(
        select(ExaminerScore)
        .where(ExaminerScore.candidate_id == candidate.id)
        .order_by(ExaminerScore.id)
    ).all()
    result = db.session.scalar(
        select(CandidateResult).where(CandidateResult.candidate_id == candidate.id)
    )
    snapshot = {
        "times": {name: _text(getattr(candidate, name)) for name in ATTEMPT_TIMES},
        "sheets": [
            {
                "examiner_id": sheet.examiner_id,
                "status": sheet.status,
                "entered_by_id": sheet.entered_by_id,
                "submitted_at": _text(sheet.submitted_at),
                "items": {str(item.dimension_id): _text(item.value) for item in sheet.items},
            }
            for sheet in sheets
        ],
        "result": None
        if result is None
        else {
            "final_score": _text(result.final_score),
            "confirmed_by_id": result.confirmed_by_id,
            "confirmed_at": _text(result.confirmed_at),
        },
    }
    return snapshot, [*sheets, *([result] if result is not None else [])]


def _reinterview(ctx: Context) -> None:
    """平台故障重新面试: the attempt's clock and sheets are void (kept whole in the audit event),
    its calls and recordings stay; she waits at the head of her panel's queue. Never straight
    into the room: someone else may be in it, and the chief calls her as anyone else."""
    c = ctx.candidate
    snapshot, rows = _attempt_snapshot(c)
    ctx.params["voided"] = snapshot
    for row in rows:
        db.session.delete(row)  # a sheet's items go with it (cascade)
    _close_live_calls(c, ctx.now)
    for name in ATTEMPT_TIMES:
        setattr(c, name, None)
    c.requeued_at = ctx.now


def _extend_guard(ctx: Context) -> None:
    _reason_given(ctx)
    c = ctx.candidate
    # settle() has already finished an interview whose time ran out: too late to extend it.
    if c.state == S.FINISHED or (c.deadline_at is not None and ctx.now >= c.deadline_at):
        raise Refused("extend_time_up")
    if c.timer_started_at is None or c.deadline_at is None:
        raise Refused("extend_not_started")
    minutes = _whole_number(ctx.params.get("minutes"))
    if minutes not in EXTEND_MINUTES:
        raise Refused("extend_minutes_invalid", low=EXTEND_MINUTES[0], high=EXTEND_MINUTES[-1])
    ctx.params["minutes"] = minutes
    # The form sends the deadline its page showed: two staff extending for the same fault at
    # once must not add the minutes twice. Without it (a script) each extension adds up.
    seen = ctx.params.pop("seen_deadline", None)
    if seen and _text(c.deadline_at) != seen:
        raise Refused("extend_seen_changed", deadline=format_beijing(c.deadline_at, "%H:%M:%S"))


def _extend(ctx: Context) -> None:
    c = ctx.candidate
    assert c.deadline_at is not None, "_extend_guard: a running countdown"
    ctx.params["was"] = c.deadline_at
    c.deadline_at = c.deadline_at + timedelta(minutes=ctx.params["minutes"])
    ctx.params["until"] = c.deadline_at


def _target_panel(ctx: Context) -> Panel:
    target_id = _whole_number(ctx.params.get("panel_id"))
    target = db.session.get(Panel, target_id) if target_id is not None else None
    if target is None or target.exam_id != ctx.candidate.exam_id:
        raise Refused("move_other_exam")
    return target


def _move_panel_guard(ctx: Context) -> None:
    _reason_given(ctx)
    # The form names the panel its page showed: two staff moving her at once, one wins.
    seen = ctx.params.pop("from_panel_seen", None)
    if seen is not None and _whole_number(seen) != ctx.candidate.panel_id:
        current = ctx.candidate.panel
        raise Refused("move_panel_changed", panel=current.name if current else "—")
    target = _target_panel(ctx)
    if target.id == ctx.candidate.panel_id:
        raise Refused("move_same_panel", panel=target.name)
    out = questions_out(target.id)
    if out is not None:
        raise Refused("move_questions_out", panel=out.panel.name, released=out.released)
    # Someone must call her (the chief) and let her out of the rest room (an assistant).
    chief = target.chief_examiner_id is not None
    assistant = db.session.scalar(
        select(PanelMember.id).where(
            PanelMember.panel_id == target.id, PanelMember.role == PanelRole.ASSISTANT
        )
    )
    if not chief and assistant is None:
        missing = gettext("a chief examiner or an interview assistant")
    elif not chief:
        missing = gettext("a chief examiner")
    elif assistant is None:
        missing = gettext("an interview assistant")
    else:
        return
    raise Refused("move_target_unstaffed", panel=target.name, missing=missing)


def _move_panel(ctx: Context) -> None:
    c, target = ctx.candidate, _target_panel(ctx)
    source = c.panel
    ctx.params.update(
        panel_id=target.id,
        from_panel_id=c.panel_id,
        from_panel=source.name if source is not None else None,
        to_panel=target.name,
        lot_before=c.lot_number,
    )
    # A lot belongs to a panel's order: before the cut-off she draws again in the new panel.
    lot = lot_after_drawn(target.id) if past_cutoff(ctx.exam, ctx.now) else None
    c.panel_id, c.panel = target.id, target
    c.lot_number, c.lot_assigned = lot, lot is not None
    if lot is not None:
        ctx.params["lot"] = lot


# A call under way when she was disqualified is over: she goes back to its queue.
UNDO_TO_QUEUE = {S.DEBUG_CALLED: S.DEBUG_WAITING, S.DEBUGGING: S.DEBUG_WAITING}


def _undo_guard(ctx: Context) -> None:
    _reason_given(ctx)
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.candidate_id == ctx.candidate.id, AuditEvent.kind == "journey.disqualify")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    before = (event.data or {}).get("before") if event is not None else None
    if before not in {s.value for s in S} or before == S.DISQUALIFIED:
        raise Refused("undo_no_disqualification")
    ctx.params["disqualified_from"] = before


def _undo_disqualification(ctx: Context) -> None:
    """Back to the state before the disqualification; a call or interview cut short by it does
    not resume: the interview counts as finished once its clock ran, else she waits first."""
    c, before = ctx.candidate, ctx.params["disqualified_from"]
    disqualified_at = c.state_changed_at
    _close_live_calls(c, ctx.now)
    if before in (S.INTERVIEWING, S.INTERVIEW_CALLED) and c.timer_started_at is not None:
        target = S.FINISHED
        if c.finished_at is None:
            deadline = c.deadline_at
            c.finished_at = min(disqualified_at, deadline) if deadline else disqualified_at
    elif before in (S.INTERVIEWING, S.INTERVIEW_CALLED):
        target = S.WAITING
        c.requeued_at = ctx.now  # she was the one being interviewed: she goes next
    else:
        target = UNDO_TO_QUEUE.get(before, before)
    out = questions_out(c.panel_id) if c.panel_id is not None else None
    if target in STILL_TO_INTERVIEW and out is not None:
        # Back before her interview, as a reinstatement is: not once the questions may be out.
        raise Refused("reinstate_questions_out", panel=out.panel.name, released=out.released)
    _set_state(ctx, target)
    if target == S.WAITING and c.lot_number is None and c.panel_id is not None:
        _lot_after_cutoff(ctx, c.panel_id)
    if target in BEFORE_DEBUG and past_cutoff(ctx.exam, ctx.now):
        c.reinstated_at = ctx.now


# --- spot checks and call-backs (随机检查, 视频回呼) ---------------------------------------------
# 候考过程中，面试助理会随机对考生的行为进行检查 (SEED 003): the assistant rings a waiting or
# debugged candidate into a short 1:1 call; the same call, from any stage but the interview, is a
# call-back (e.g. for a candidate who asked for help). Neither changes the candidate's state: the
# Call row says it rings or runs, and its moves bump the row's `version` (compare-and-set: two
# assistants at once, one wins) so that the candidate's page notices. A journey call (the chief's
# interview call, a debug call) takes precedence and ends a spot check (`_spot_check_gives_way`).

SPOT_CHECK_KINDS = ("spot_check", "call_back")
JOURNEY_CALL = Call.kind.not_in(SPOT_CHECK_KINDS)
# A spot check: in the waiting room (not while the chief's call rings) or debugged, not yet in.
SPOT_CHECK_STATES = frozenset({S.DEBUGGED, S.WAITING})
# A call-back: whoever has a page to answer on and is in no other call (not the debug call, the
# chief's call or the interview; not once the way is over).
CALL_BACK_STATES = frozenset(
    {S.INVITED, S.CONFIRMED, S.DEBUG_WAITING, S.DEBUGGED, S.WAITING, S.FINISHED, S.RESTING}
)


def live_spot_check(candidate_id: int) -> Call | None:
    """The candidate's spot check or call-back that still rings or runs."""
    return db.session.scalar(
        select(Call)
        .where(
            Call.candidate_id == candidate_id,
            Call.kind.in_(SPOT_CHECK_KINDS),
            Call.outcome.in_(LIVE_CALL),
        )
        .order_by(Call.id.desc())
        .limit(1)
    )


def assistant_spot_check(user_id: int, now: datetime, column=Call):
    """The spot check or call-back `user_id` placed that still runs, or rings before its
    accept-by time (a ringing one past it lapses at the next look)."""
    live = or_(Call.outcome == "accepted", and_(Call.outcome == "ringing", Call.accept_by > now))
    return db.session.scalar(
        select(column)
        .where(Call.called_by_id == user_id, Call.kind.in_(SPOT_CHECK_KINDS), live)
        .order_by(Call.id.desc())
        .limit(1)
    )


def _assistant_busy(user_id: int, now: datetime) -> bool:
    ringing = and_(Call.outcome == "ringing", Call.accept_by > now)
    busy = db.session.scalar(
        select(Call.id)
        .where(Call.called_by_id == user_id, or_(Call.outcome == "accepted", ringing))
        .where(Call.kind == "debug")
        .limit(1)
    )
    return busy is not None or assistant_spot_check(user_id, now, Call.id) is not None


def _spot_check_free(ctx: Context) -> None:
    if live_spot_check(ctx.candidate.id) is not None:
        raise Refused("spot_check_live")
    if _assistant_busy(ctx.staff.id, ctx.now):
        raise Refused("assistant_call_busy")


def _signed_in(ctx: Context) -> None:
    if ctx.candidate.session_nonce is None:
        raise Refused("candidate_offline")


def _spot_check_answerable(ctx: Context) -> None:
    call = live_spot_check(ctx.candidate.id)
    if call is None or call.outcome != "ringing" or ctx.now >= call.accept_by:
        raise Refused("no_spot_check")


def _spot_check_on(ctx: Context) -> None:
    if live_spot_check(ctx.candidate.id) is None:
        raise Refused("no_spot_check")


def _spot_check_lapsed(ctx: Context) -> None:
    call = live_spot_check(ctx.candidate.id)
    if call is None or call.outcome != "ringing" or ctx.now < call.accept_by:
        raise Refused("no_spot_check")


def _ring_spot_check(kind: str) -> Callable:
    def effect(ctx: Context) -> None:
        call = Call(
            candidate_id=ctx.candidate.id,
            panel_id=ctx.candidate.panel_id,
            kind=kind,
            # A fresh 1:1 room, like a debug call's: the candidate sees its name.
            room=new_room_name(f"ir-e{ctx.candidate.exam_id}"),
            called_by_id=ctx.staff.id,
            called_at=ctx.now,
            accept_by=ctx.now + timedelta(seconds=ctx.exam.call_accept_seconds),
        )
        db.session.add(call)
        db.session.flush()
        ctx.params.update(call=call.id, call_kind=kind)
        _count_spot_check_move(ctx.candidate)  # the row's version moves: her page rings

    return effect


def _close_spot_check(outcome: str) -> Callable:
    def effect(ctx: Context) -> None:
        call = live_spot_check(ctx.candidate.id)
        assert call is not None, "the move's guard found it"
        call.outcome = outcome
        if outcome == "accepted":
            call.accepted_at = ctx.now
        else:
            call.ended_at = ctx.now
        ctx.params.update(call=call.id, call_kind=call.kind, outcome=outcome)
        _count_spot_check_move(ctx.candidate)

    return effect


def _count_spot_check_move(candidate: Candidate) -> None:
    """A spot-check move keeps the state, yet must bump the row's `version` (her page notices,
    and two moves at once stay compare-and-set); counted apart as well, so that the consoles
    that show nothing of spot checks can leave it out of their version."""
    candidate.spot_check_moves = (candidate.spot_check_moves or 0) + 1


def _spot_check_gives_way(ctx: Context, kind: str) -> None:
    """The chief's interview call (or a debug call) ends a spot check still ringing or running:
    the panel's schedule comes first, and a candidate is never rung into two calls."""
    call = live_spot_check(ctx.candidate.id)
    if call is None:
        return
    outcome = "ended" if call.outcome == "accepted" else "cancelled"
    call.outcome = outcome
    call.ended_at = ctx.now
    audit.record(
        "spot_check.superseded",
        candidate=ctx.candidate,
        actor=ctx.actor.user,
        call=call.id,
        call_kind=call.kind,
        outcome=outcome,
        by_call=kind,
    )


@cache
def _lapsed_spot_checks_query(scope: tuple[str, ...]):
    """lapse_spot_checks' statement for a scope (Candidate columns), built once: every console
    poll and every candidate's full poll asks it (the clock is a bound parameter)."""
    query = (
        select(Call.candidate_id)
        .join(Candidate, Candidate.id == Call.candidate_id)
        .where(
            Call.kind.in_(SPOT_CHECK_KINDS),
            Call.outcome == "ringing",
            Call.accept_by <= bindparam("now"),
        )
    )
    for name in scope:
        query = query.where(getattr(Candidate, name) == bindparam(name))
    return query


def lapse_spot_checks(
    now: datetime,
    *,
    panel_id: int | None = None,
    exam_id: int | None = None,
    candidate_id: int | None = None,
) -> int:
    """Spot checks nobody accepted in time lapse (as debug calls do at `settle`): one query
    for those due in scope, one move each."""
    scope = {"panel_id": panel_id, "exam_id": exam_id, "id": candidate_id}
    scope = {name: value for name, value in scope.items() if value is not None}
    query = _lapsed_spot_checks_query(tuple(scope))
    due = sorted(set(db.session.scalars(query, {"now": now, **scope})))
    lapsed = 0
    for due_id in due:
        try:
            perform(due_id, "lapse_spot_check", Actor.system(), now)
            lapsed += 1
        except Refused:
            pass  # accepted or ended meanwhile
    return lapsed


def spot_check_shown(candidate: Candidate) -> Call | None:
    """The spot check her page shows (ringing or running), if her way is not over."""
    if candidate.state in FINAL:
        return None
    return live_spot_check(candidate.id)


MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        Move(
            "confirm",
            frozenset({S.INVITED}),
            S.CONFIRMED,
            frozenset({CANDIDATE}),
            guard=_confirm_open,
            effect=_confirm,
        ),
        Move(
            "decline",
            frozenset({S.INVITED, S.CONFIRMED}),
            S.DECLINED,
            frozenset({CANDIDATE}),
            guard=_confirm_open,
            effect=_decline,
        ),
        Move("expire_confirmation", frozenset({S.INVITED}), S.DECLINED, frozenset({SYSTEM})),
        Move(
            "enter_debug",
            frozenset({S.CONFIRMED}),
            S.DEBUG_WAITING,
            frozenset({CANDIDATE}),
            guard=_both(_in_login_window, _nothing_missing_before_debug),
        ),
        Move(
            "call_debug",
            frozenset({S.DEBUG_WAITING}),
            S.DEBUG_CALLED,
            frozenset({ASSISTANT}),
            guard=_no_other_debug_call,
            effect=_ring("debug"),
        ),
        Move(
            "cancel_debug_call",
            frozenset({S.DEBUG_CALLED}),
            S.DEBUG_WAITING,
            frozenset({ASSISTANT}),
            effect=_close_call("cancelled"),
        ),
        Move(
            "lapse_debug_call",
            frozenset({S.DEBUG_CALLED}),
            S.DEBUG_WAITING,
            frozenset({SYSTEM}),
            effect=_close_call("lapsed"),
        ),
        Move(
            "accept_debug",
            frozenset({S.DEBUG_CALLED}),
            S.DEBUGGING,
            frozenset({CANDIDATE}),
            guard=_call_not_lapsed,
            effect=_close_call("accepted"),
        ),
        Move(
            "check_identity",
            frozenset({S.DEBUGGING}),
            None,
            frozenset({ASSISTANT}),
            guard=_face_verdict_noted,
            effect=_check_identity,
        ),
        Move(
            "end_debug",
            frozenset({S.DEBUGGING}),
            S.DEBUG_WAITING,
            frozenset({ASSISTANT}),
            effect=_close_call("ended"),
        ),
        Move(
            "mark_debugged",
            frozenset({S.DEBUGGING}),
            S.DEBUGGED,
            frozenset({ASSISTANT}),
            guard=_both(_identity_checked, _second_camera_checked_if_required),
            effect=_debugged,
        ),
        Move(
            "verify_second_camera",
            frozenset({S.DEBUGGING}),
            None,
            frozenset({ASSISTANT}),
            guard=_may_verify_second_camera,
            effect=_verify_second_camera,
        ),
        Move(
            "enter_waiting",
            frozenset({S.DEBUGGED}),
            S.WAITING,
            frozenset({CANDIDATE}),
            guard=_both(_waiting_room_open, _second_camera_on),
            effect=_enter_waiting,
            touches_queue=True,
        ),
        Move(
            "draw_lot",
            frozenset({S.WAITING}),
            None,
            frozenset({CANDIDATE}),
            guard=_may_draw,
            effect=_draw,
            touches_queue=True,
        ),
        Move(
            "call_interview",
            frozenset({S.WAITING}),
            S.INTERVIEW_CALLED,
            frozenset({CHIEF}),
            guard=_next_in_lot_order,
            effect=_ring("interview"),
            touches_queue=True,
        ),
        Move(
            "lapse_interview_call",
            frozenset({S.INTERVIEW_CALLED}),
            S.WAITING,
            frozenset({SYSTEM}),
            effect=_lapse_interview_call,
            touches_queue=True,
        ),
        Move(
            "accept_interview",
            frozenset({S.INTERVIEW_CALLED}),
            S.INTERVIEWING,
            frozenset({CANDIDATE}),
            guard=_call_not_lapsed,
            effect=_accept_interview,
            touches_queue=True,
        ),
        Move(
            "send_back",
            frozenset({S.INTERVIEW_CALLED, S.INTERVIEWING}),
            S.WAITING,
            frozenset({CHIEF}),
            guard=_timer_not_started,
            effect=_send_back,
            touches_queue=True,
        ),
        Move(
            "start_timer",
            frozenset({S.INTERVIEWING}),
            None,
            frozenset({CHIEF}),
            guard=_timer_not_started,
            effect=_start_timer,
            touches_queue=True,
        ),
        Move(
            "finish",
            frozenset({S.INTERVIEWING}),
            S.FINISHED,
            frozenset({CANDIDATE, CHIEF, SYSTEM}),
            guard=_timer_started,
            effect=_finish,
            touches_queue=True,
        ),
        Move("enter_rest", frozenset({S.FINISHED}), S.RESTING, frozenset({CANDIDATE})),
        Move(
            "release",
            frozenset({S.RESTING}),
            S.RELEASED,
            frozenset({ASSISTANT}),
            guard=_nobody_still_to_interview,
            effect=_release,
            touches_queue=True,
            locks_sharing_panels=True,
        ),
        # The cut-off (due_move): only those not yet in the debug queue, and not reinstated.
        Move("mark_absent", BEFORE_DEBUG, S.ABSENT, frozenset({SYSTEM}), guard=_not_reinstated),
        # After the cut-off, someone who went quiet in the debug queue (or debugged and never
        # came in) would hold every sharing rest room: the panel's assistant or HR, with a reason.
        # Not someone in the call: the assistant ends the call first.
        Move(
            "mark_absent_in_debug",
            IN_DEBUG - {S.DEBUGGING},
            S.ABSENT,
            frozenset({ASSISTANT, HR}),
            guard=_after_cutoff_with_reason,
            effect=_close_call("cancelled"),
        ),
        Move(
            "mark_no_show",
            frozenset({S.WAITING}),
            S.ABSENT,
            frozenset({CHIEF}),
            guard=_called_and_missed,
            touches_queue=True,
        ),
        # Also after release: the exam office reviews the recordings after the day
        # (考试结束后由考务工作小组根据记录视频判断，违纪者成绩按无效处理).
        Move(
            "disqualify",
            NOT_FINAL | {S.RELEASED},
            S.DISQUALIFIED,
            frozenset({HR, CHIEF}),
            guard=_reason_given,
            effect=_end_live_calls,
            touches_queue=True,
        ),
        Move(
            "reinstate",
            frozenset({S.ABSENT, S.DECLINED}),
            None,  # where she was: waiting, debugged or confirmed (_reinstate)
            OVERRIDE_ROLES["reinstate"],
            guard=_reinstate_guard,
            effect=_reinstate,
            touches_queue=True,
            locks_sharing_panels=True,
        ),
        Move(
            "reinterview",
            # Released is refused by the guard, in words (the questions may be out).
            frozenset({S.INTERVIEWING, S.FINISHED, S.RESTING, S.RELEASED}),
            S.WAITING,
            OVERRIDE_ROLES["reinterview"],
            guard=_reinterview_guard,
            effect=_reinterview,
            touches_queue=True,
        ),
        Move(
            "extend_interview",
            # Finished is refused by the guard, in words (settle ends an interview at zero).
            frozenset({S.INTERVIEWING, S.FINISHED}),
            None,
            OVERRIDE_ROLES["extend_interview"],
            guard=_extend_guard,
            effect=_extend,
            touches_queue=True,
        ),
        Move(
            "move_panel",
            frozenset({S.WAITING}),
            None,
            OVERRIDE_ROLES["move_panel"],
            guard=_move_panel_guard,
            effect=_move_panel,
            touches_queue=True,
            other_queue_param="panel_id",
            locks_sharing_panels=True,
        ),
        # 随机检查 and 视频回呼: a 1:1 call with the panel's assistant; the state stays.
        Move(
            "call_spot_check",
            SPOT_CHECK_STATES,
            None,
            frozenset({ASSISTANT}),
            guard=_spot_check_free,
            effect=_ring_spot_check("spot_check"),
        ),
        Move(
            "call_back",
            CALL_BACK_STATES,
            None,
            frozenset({ASSISTANT}),
            guard=_both(_spot_check_free, _signed_in),
            effect=_ring_spot_check("call_back"),
        ),
        Move(
            "accept_spot_check",
            CALL_BACK_STATES,
            None,
            frozenset({CANDIDATE}),
            guard=_spot_check_answerable,
            effect=_close_spot_check("accepted"),
        ),
        # Any state: whatever happened meanwhile, the assistant can always hang up.
        Move(
            "end_spot_check",
            frozenset(S),
            None,
            frozenset({ASSISTANT, HR}),
            guard=_spot_check_on,
            effect=_close_spot_check("ended"),
        ),
        Move(
            "lapse_spot_check",
            frozenset(S),
            None,
            frozenset({SYSTEM}),
            guard=_spot_check_lapsed,
            effect=_close_spot_check("lapsed"),
        ),
        Move(
            "undo_disqualification",
            frozenset({S.DISQUALIFIED}),
            None,  # the state before it (_undo_disqualification)
            OVERRIDE_ROLES["undo_disqualification"],
            guard=_undo_guard,
            effect=_undo_disqualification,
            touches_queue=True,
            locks_sharing_panels=True,
        ),
    ]
}

# A move refused because the way has ended says so (the candidate's page shows the same words).
# Keyed by the plain state string a row holds (a StrEnum member is equal to and hashes as it).
REFUSAL_CODE_BY_STATE: dict[str, str] = {
    S.DECLINED: "declined",
    S.ABSENT: "absent",
    S.DISQUALIFIED: "disqualified",
    S.RELEASED: "already_released",
}
REFUSAL_BY_STATE = {state: message_of(code) for state, code in REFUSAL_CODE_BY_STATE.items()}
# Absent after entering the waiting room: called, did not come (中途退出视为放弃考试资格).
NO_SHOW_MESSAGE = "主考官呼叫后您未进入面试间，已按缺考处理，视为放弃本次面试。"
# Absent from the debug queue after the cut-off (mark_absent_in_debug): in by the cut-off, then
# gone without finishing.
LEFT_DEBUG_MESSAGE = (
    "入场截止后您未完成设备调试并进入面试等待室（面试助理多次呼叫未应答），已按缺考处理。"
    "如有疑问请联系考务工作人员。"
)


# --- queries used by guards and pages -----------------------------------------------------------


def took_part_in_mock(candidate: Candidate, exam: Exam) -> bool:
    """未参加网络模拟面试的考生无法参加网络正式面试 (SEED 004): the same person (ID number) in a
    mock of this formal exam got as far as the assistant's 调试完毕 there. The mock has its own
    codes (模拟测试考号非正式面试考号), so the ID number is what ties the two."""
    return (
        db.session.scalar(
            select(Candidate.id)
            .join(Exam, Exam.id == Candidate.exam_id)
            .where(
                Exam.formal_exam_id == exam.id,
                Exam.kind == "mock",
                Candidate.id_number == candidate.id_number,
                Candidate.debugged_at.is_not(None),
            )
            .limit(1)
        )
        is not None
    )


@dataclass(frozen=True)
class Missing:
    """A step still to take before the debug room: the page lists `step` (进入调试等候间前，
    请先：…), the move refuses with `refusal`."""

    step: str
    code: str  # the move's refusal (app.refusals)

    @property
    def message(self) -> str:
        return message_of(self.code)


PHOTO_MISSING = Missing("上传身份证人像面照片", "id_photo_missing")
NOTICES_UNREAD = Missing("阅读全部考试附件并点击“已阅”", "notices_unread")
NO_PANEL = Missing("等待工作人员分配考场（可点击求助）", "no_panel")
MOCK_NOT_TAKEN = Missing("参加模拟面试（完成设备调试）", "mock_missing")
FACE_CONSENT_MISSING = Missing("阅读人脸核验告知并点击“同意”", "face_consent_needed")


def missing_before_debug(
    candidate: Candidate, exam: Exam | None = None, all_notices_read: bool | None = None
) -> list[Missing]:
    """What still stands between the candidate and the debug room, in the page's order (the
    order the confirmed page asks for them); `enter_debug` refuses with the first. A page that
    has loaded the notices passes `all_notices_read` to spare the count."""
    exam = exam or candidate.exam
    if all_notices_read is None:
        all_notices_read = _unread_notices(candidate, exam) == 0
    missing = []
    if exam.requires_id_photo and not candidate.id_photo_path:
        missing.append(PHOTO_MISSING)
    if not all_notices_read:
        missing.append(NOTICES_UNREAD)
    if face_stills.consent_needed(candidate, exam):
        missing.append(FACE_CONSENT_MISSING)
    # Without a panel nobody's debug queue holds the candidate: HR must assign one first.
    if candidate.panel_id is None:
        missing.append(NO_PANEL)
    if exam.requires_mock and not took_part_in_mock(candidate, exam):
        missing.append(MOCK_NOT_TAKEN)
    return missing


def _unread_notices(candidate: Candidate, exam: Exam) -> int:
    total = db.session.execute(
        select(func.count(Notice.id)).where(Notice.exam_id == exam.id)
    ).scalar_one()
    read = db.session.execute(
        select(func.count(NoticeAck.id))
        .join(Notice, Notice.id == NoticeAck.notice_id)
        .where(Notice.exam_id == exam.id, NoticeAck.candidate_id == candidate.id)
    ).scalar_one()
    return total - read


def live_debug_call(user_id: int, panel_id: int | None, column=Call, now: datetime | None = None):
    """The debug call `user_id` placed in this panel that still rings or runs (the newest, if
    several). Given `now`, a ringing call past its accept-by time no longer counts (it lapses
    at the next settle)."""
    live: ColumnElement[bool] = Call.outcome.in_(["ringing", "accepted"])
    if now is not None:
        ringing = and_(Call.outcome == "ringing", Call.accept_by > now)
        live = or_(Call.outcome == "accepted", ringing)
    return db.session.scalar(
        select(column)
        .join(Candidate, Candidate.id == Call.candidate_id)
        .where(
            Call.called_by_id == user_id, Call.kind == "debug", live, Candidate.panel_id == panel_id
        )
        .order_by(Call.id.desc())
        .limit(1)
    )


# A waiting candidate whose interview call lapsed (not accepted in time) goes behind everyone
# not yet called (顺延): a candidate who has left must not hold up the panel. Among equals, lot
# order; whoever missed more calls comes later still. (A chief's send-back is the chief's own
# decision and does not defer: the chief may call the same candidate again at once.)
MISSED_INTERVIEW_CALL = (Call.kind == "interview", Call.outcome == "lapsed")


def _missed_calls():
    """Per candidate row: how many interview calls they let lapse (a correlated count)."""
    return (
        select(func.count(Call.id))
        .where(Call.candidate_id == Candidate.id, *MISSED_INTERVIEW_CALL)
        .correlate(Candidate)
        .scalar_subquery()
    )


def _queue_query(panel_id: int):
    missed = _missed_calls()
    return (
        select(Candidate, missed)
        .where(
            Candidate.panel_id == panel_id,
            Candidate.state == S.WAITING,
            Candidate.lot_number.is_not(None),
        )
        # 平台故障重新面试 first (in the order they were sent back), then 顺延, then lots.
        .order_by(
            Candidate.requeued_at.is_(None), Candidate.requeued_at, missed, Candidate.lot_number
        )
    )


def interview_queue_with_misses(panel_id: int) -> list[tuple[Candidate, int]]:
    """The panel's waiting candidates with a lot, in the order the chief calls them, each with
    the number of interview calls they missed."""
    return [(candidate, missed) for candidate, missed in db.session.execute(_queue_query(panel_id))]


def interview_queue_front(panel_id: int, shown: int) -> list[tuple[Candidate, int]]:
    """The first `shown` of interview_queue_with_misses, then every later one who missed a
    call (顺延: the chief may mark them absent wherever they are): a long queue in two short
    reads."""
    front = [(c, missed) for c, missed in db.session.execute(_queue_query(panel_id).limit(shown))]
    missed = _missed_calls()
    deferred = db.session.execute(_queue_query(panel_id).where(missed > 0)).all()
    seen = {c.id for c, _ in front}
    return front + [(c, n) for c, n in deferred if c.id not in seen]


def interview_queue(panel_id: int) -> list[Candidate]:
    return [candidate for candidate, _ in interview_queue_with_misses(panel_id)]


def next_to_call(panel_id: int) -> Candidate | None:
    row = db.session.execute(_queue_query(panel_id).limit(1)).first()
    return row[0] if row is not None else None


# A call still under way: ringing, or accepted and not yet ended.
LIVE_CALL = ("ringing", "accepted")


def current_call(candidate: Candidate) -> Call | None:
    """The candidate's debug or interview call still under way (never a spot check: those
    leave the state alone, `live_spot_check`)."""
    return db.session.scalar(
        select(Call)
        .where(Call.candidate_id == candidate.id, Call.outcome.in_(LIVE_CALL), JOURNEY_CALL)
        .order_by(Call.id.desc())
        .limit(1)
    )


def ringing_call(candidate: Candidate) -> Call | None:
    call = current_call(candidate)
    return call if call is not None and call.outcome == "ringing" else None


# A phone counts as connected this long after its last ping (it pings every 10 s).
SECOND_CAMERA_WINDOW = timedelta(seconds=30)


def second_camera_connected(candidate: Candidate, now: datetime) -> bool:
    seen = candidate.second_camera_seen_at
    return seen is not None and now - seen < SECOND_CAMERA_WINDOW


def _random_free_lot(panel_id: int) -> int:
    """抽签: a random number among those not yet drawn, 1..(candidates of the panel)."""
    size = db.session.execute(
        select(func.count(Candidate.id)).where(
            Candidate.panel_id == panel_id, Candidate.state.not_in([S.DECLINED])
        )
    ).scalar_one()
    taken = set(
        db.session.scalars(
            select(Candidate.lot_number).where(
                Candidate.panel_id == panel_id, Candidate.lot_number.is_not(None)
            )
        )
    )
    free = [n for n in range(1, max(size, len(taken) + 1) + 1) if n not in taken]
    return random.SystemRandom().choice(free)


def lot_after_drawn(panel_id: int) -> int:
    """The lot for someone who comes in after the cut-off (a late debug, a reinstatement, a move
    from another panel): after every lot already drawn or assigned, so nobody's turn moves."""
    highest = db.session.scalar(
        select(func.max(Candidate.lot_number)).where(Candidate.panel_id == panel_id)
    )
    return (highest or 0) + 1


# --- performing moves ---------------------------------------------------------------------------

# A candidate row, once read, is still there: nothing deletes candidates (HR may only move them).
NEVER_DELETED = "candidates are never deleted"


def _actor_roles(actor: Actor, candidate: Candidate) -> set[str]:
    if actor.kind == "system":
        return {SYSTEM}
    if actor.kind == "candidate":
        return {CANDIDATE} if actor.candidate_id == candidate.id else set()
    user = actor.user
    assert user is not None, "a staff actor has a user (Actor.staff)"
    roles: set[str] = set()
    if user.role in ("hr", "admin"):
        roles.add(HR)
    panel = candidate.panel
    if panel is not None:
        if panel.chief_examiner_id == user.id:
            roles.add(CHIEF)
        is_assistant = db.session.scalar(
            select(PanelMember.id).where(
                PanelMember.panel_id == panel.id,
                PanelMember.user_id == user.id,
                PanelMember.role == PanelRole.ASSISTANT,
            )
        )
        if is_assistant:
            roles.add(ASSISTANT)
    return roles


def _touch_queue(panel_id: int | None) -> None:
    if panel_id is not None:
        db.session.execute(
            update(Panel).where(Panel.id == panel_id).values(queue_version=Panel.queue_version + 1)
        )


def _queues_of(move: Move, candidate: Candidate, params: dict) -> list[int]:
    """The panels whose queues the move touches, lower id first."""
    ids = {candidate.panel_id}
    if move.other_queue_param is not None:
        ids.add(_whole_number(params.get(move.other_queue_param)))
    if move.locks_sharing_panels:
        for panel_id in [i for i in ids if i is not None]:
            ids.update(p.id for p in panels_sharing_questions(panel_id))
    return sorted(i for i in ids if i is not None)


def _apply(move: Move, candidate: Candidate, actor: Actor, now: datetime, params: dict) -> None:
    """Check and apply one move to a loaded candidate, inside the caller's transaction."""
    if not _actor_roles(actor, candidate) & move.by:
        raise Refused("not_allowed")
    if candidate.state not in move.sources:
        raise Refused(
            REFUSAL_CODE_BY_STATE.get(candidate.state, "wrong_state"), label=candidate.state_label
        )
    ctx = Context(candidate, candidate.exam, actor, now, params)
    if move.guard is not None:
        move.guard(ctx)
    before = candidate.state
    if move.effect is not None:
        move.effect(ctx)
    # A move that keeps the state still changes a column (a lot, a timer, a check), so the
    # row's UPDATE bumps `version` and the candidate's page notices.
    if move.target is not None and move.target != before:
        candidate.state = move.target
        candidate.state_changed_at = now
    audit.record(
        f"journey.{move.name}",
        candidate=candidate,
        actor=actor.user,
        before=before,
        after=candidate.state,
        **{k: v for k, v in params.items() if k != "room"},
    )


def perform(
    candidate_id: int, move_name: str, actor: Actor, now: datetime | None = None, **params
) -> Candidate:
    """Apply `move_name` to the candidate in one transaction, or raise Refused with no change."""
    move = MOVES[move_name]
    now = now or utcnow()
    try:
        candidate = db.session.get(Candidate, candidate_id, populate_existing=True)
        if candidate is None:
            raise Refused("no_candidate")
        # Due time rules are committed on their own: they hold even if this move is refused.
        settle(candidate, now)
        if move.touches_queue:
            for panel_id in _queues_of(move, candidate, params):
                _touch_queue(panel_id)
            candidate = db.session.get(Candidate, candidate_id, populate_existing=True)
            assert candidate is not None, NEVER_DELETED
        _apply(move, candidate, actor, now, params)
        db.session.commit()
    except Refused:
        db.session.rollback()
        raise
    except StaleDataError:
        db.session.rollback()
        raise Refused("changed_meanwhile") from None
    except Exception:
        db.session.rollback()
        raise
    return candidate


# --- time rules ---------------------------------------------------------------------------------


# Each rule is written twice, side by side: once in Python for a loaded candidate (`due_move`,
# `lot_assignment_due`) and once as SQL over Candidate joined to Exam (`due_clause`,
# `lot_assignment_clause`) for the consoles, which must find the few candidates concerned
# without loading everyone. tests/test_time_rules.py holds each pair equal over every state and
# every clock position. A deadline is due from the moment itself (`now >= deadline`).


class ExamDeadlines(Protocol):
    """What `due_move` reads of an exam: an Exam, or the quick poll's `ExamTimes`."""

    @property
    def confirm_deadline_at(self) -> datetime | None: ...
    @property
    def entry_cutoff_at(self) -> datetime | None: ...


class CandidateClock(Protocol):
    """What `due_move` reads of a candidate: a Candidate, or the quick poll's `PollView`."""

    @property
    def state(self) -> str: ...
    @property
    def deadline_at(self) -> datetime | None: ...
    @property
    def reinstated_at(self) -> datetime | None: ...


def due_move(candidate: CandidateClock, exam: ExamDeadlines, now: datetime) -> str | None:
    """The time rule that applies to this candidate now, if any."""
    state = candidate.state
    if state in RINGING:
        # The call row is read only for a loaded Candidate: the quick poll never asks about a
        # ringing call (it goes the full way).
        assert isinstance(candidate, Candidate), "a ringing call needs the loaded candidate"
        # Lapsed exactly when accepting would be refused (`_call_not_lapsed`): no ringing call
        # left (closed, or never written) counts as lapsed too, else nobody could ever answer.
        call = ringing_call(candidate)
        if call is None or now >= call.accept_by:
            return "lapse_debug_call" if state == S.DEBUG_CALLED else "lapse_interview_call"
    if state == S.INVITED and exam.confirm_deadline_at and now >= exam.confirm_deadline_at:
        return "expire_confirmation"
    if (
        state in BEFORE_DEBUG
        and candidate.reinstated_at is None
        and exam.entry_cutoff_at
        and now >= exam.entry_cutoff_at
    ):
        return "mark_absent"
    if state == S.INTERVIEWING and candidate.deadline_at and now >= candidate.deadline_at:
        return "finish"
    return None


def due_clause(now: "datetime | ColumnElement[datetime]"):
    """`due_move(...) is not None` as SQL, for a SELECT over Candidate joined to Exam."""
    call, later = aliased(Call), aliased(Call)
    # ringing_call(): the newest ringing-or-accepted call, if it is the ringing one.
    answerable = exists().where(
        call.candidate_id == Candidate.id,
        call.outcome == "ringing",
        call.accept_by > now,
        call.kind.not_in(SPOT_CHECK_KINDS),
        ~exists().where(
            later.candidate_id == call.candidate_id,
            later.id > call.id,
            later.outcome.in_(LIVE_CALL),
            later.kind.not_in(SPOT_CHECK_KINDS),
        ),
    )
    return or_(
        and_(Candidate.state.in_(RINGING), ~answerable),
        and_(Candidate.state == S.INVITED, Exam.confirm_deadline_at <= now),
        and_(
            Candidate.state.in_(BEFORE_DEBUG),
            Candidate.reinstated_at.is_(None),
            Exam.entry_cutoff_at <= now,
        ),
        and_(Candidate.state == S.INTERVIEWING, Candidate.deadline_at <= now),
    )


def lot_assignment_due(candidate, now: datetime) -> bool:
    """Past the cut-off, a waiting candidate without a lot gets one (未抽签者由系统分配签号)."""
    return (
        candidate.state == S.WAITING
        and candidate.lot_number is None
        and past_cutoff(candidate.exam, now)
    )


def lot_assignment_clause(now: "datetime | ColumnElement[datetime]"):
    """`lot_assignment_due` as SQL, for a SELECT over Candidate joined to Exam."""
    return and_(
        Candidate.state == S.WAITING, Candidate.lot_number.is_(None), Exam.entry_cutoff_at <= now
    )


def _settle_loaded(candidate: Candidate, now: datetime) -> None:
    """Apply due time rules to a loaded candidate inside the current transaction."""
    for _ in range(3):  # a lapsed call may be followed by the cut-off, never more than that
        move_name = due_move(candidate, candidate.exam, now)
        if move_name is None:
            return
        move = MOVES[move_name]
        if move.touches_queue:
            _touch_queue(candidate.panel_id)
        _apply(move, candidate, Actor.system(), now, {})


def settle(candidate: Candidate, now: datetime | None = None) -> Candidate:
    """Bring one candidate up to date with the clock; a no-op (no write) when nothing is due."""
    now = now or utcnow()
    if due_move(candidate, candidate.exam, now) is None:
        return candidate
    try:
        _settle_loaded(candidate, now)
        db.session.commit()
    except StaleDataError:
        # Someone else settled or moved them first: their version is the truth.
        db.session.rollback()
        db.session.refresh(candidate)
    return candidate


def settle_exam(exam_id: int, now: datetime | None = None) -> int:
    """The periodic sweep: settle every candidate of an exam and assign missing lots."""
    now = now or utcnow()
    changed = 0
    ids = db.session.scalars(
        select(Candidate.id).where(Candidate.exam_id == exam_id, Candidate.state.in_(NOT_FINAL))
    ).all()
    for candidate_id in ids:
        candidate = db.session.get(Candidate, candidate_id)
        assert candidate is not None, NEVER_DELETED
        version = candidate.version
        settle(candidate, now)
        changed += candidate.version != version
    changed += assign_missing_lots(exam_id, now)
    changed += lapse_spot_checks(now, exam_id=exam_id)
    return changed


def assign_missing_lots(exam_id: int, now: datetime | None = None) -> int:
    """At the cut-off, whoever is waiting without a lot gets one (未抽签者由系统分配签号)."""
    now = now or utcnow()
    exam = db.session.get(Exam, exam_id)
    if exam is None or not past_cutoff(exam, now):
        return 0
    # Only panels with someone waiting without a lot: locking a panel bumps its queue_version,
    # which every console and waiting candidate's poll would then fetch again.
    lotless = select(Candidate.panel_id).where(
        Candidate.exam_id == exam_id, Candidate.state == S.WAITING, Candidate.lot_number.is_(None)
    )
    assigned = 0
    for panel_id in sorted({p for p in db.session.scalars(lotless) if p is not None}):
        try:
            # One transaction per panel, its row locked first: a late entrant's lot
            # (`_lot_after_cutoff`) and this never draw from the same free numbers at once.
            _touch_queue(panel_id)
            assigned += _assign_lots_in_panel(panel_id)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
    return assigned
