"""Exam-day controls HR uses while an exam is running.

Closing entry early is what an exam office does once everyone expected is in the waiting room:
the chief examiner may only call in lot order after the entry cut-off (the order is not final
before it), so waiting for a cut-off set weeks ago would idle the panels. Closing moves the
cut-off to now, and then the same rules apply as at a planned cut-off: whoever is not yet in
the debug queue is absent (unless reinstated), whoever waits without a lot gets one, and whoever
is still debugging finishes and comes in with a lot after the drawn ones. HR is asked first, with
those numbers (`close_entry_counts`).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, and_, case, func, select, update

from app import audit, db
from app.day.poll_versions import bump_exam
from app.journey import settle_exam
from app.models import AuditEvent, Candidate, Exam, User
from app.models.candidate import BEFORE_DEBUG, IN_DEBUG
from app.models.candidate import CandidateState as S
from app.refusals import Refused
from app.timeutil import utcnow


class ExamDayError(Refused):
    """HR's exam-day controls said no (the HR route catches exactly these)."""


@dataclass(frozen=True)
class CloseEntryCounts:
    absent: int  # not yet in the debug queue (and not reinstated): marked absent
    debugging: int  # in the debug queue, a debug call or debugged: they still come in
    without_lot: int  # waiting without a lot: the system assigns one


def close_entry_counts(exam_id: int) -> CloseEntryCounts:
    """What 立即截止入场 would do now, in one query, for the question HR is asked first."""

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    absent, debugging, without_lot = db.session.execute(
        select(
            count(and_(Candidate.state.in_(BEFORE_DEBUG), Candidate.reinstated_at.is_(None))),
            count(Candidate.state.in_(IN_DEBUG)),
            count(and_(Candidate.state == S.WAITING, Candidate.lot_number.is_(None))),
        ).where(Candidate.exam_id == exam_id)
    ).one()
    return CloseEntryCounts(int(absent), int(debugging), int(without_lot))


def _closed_by_hand(exam_id: int, cutoff: datetime) -> bool:
    """The cut-off now in force is the one an earlier 立即截止入场 set. A second click that reads
    it after the first committed, on a server whose clock runs a moment behind, would otherwise
    see it still ahead and close entry again."""
    latest = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.exam_id == exam_id, AuditEvent.kind == "exam.entry_closed")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    after = (latest.data or {}).get("after") if latest is not None else None
    return isinstance(after, str) and datetime.fromisoformat(after) == cutoff


def close_entry_now(exam_id: int, actor: User, now: datetime | None = None) -> int:
    """Move the entry cut-off to `now`; returns how many candidates that changed.

    One conditional UPDATE, compare-and-set on the cut-off read: two HR officers clicking at once
    close it once, and the later click is told it was already closed (even when its clock read
    a moment earlier than the winner's).
    """
    now = now or utcnow()
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise ExamDayError("no_exam")
    if now < exam.login_opens_at:
        raise ExamDayError("login_not_open")
    before = exam.entry_cutoff_at
    if before is not None and (before <= now or _closed_by_hand(exam_id, before)):
        db.session.rollback()
        raise ExamDayError("entry_already_closed")
    unchanged = Exam.entry_cutoff_at.is_(None) if before is None else Exam.entry_cutoff_at == before
    # Session.execute is typed to return Result; an UPDATE's is a CursorResult, which has rowcount.
    closed = cast(
        CursorResult,
        db.session.execute(
            update(Exam)
            .where(Exam.id == exam_id, unchanged)
            # The cut-off is a clock time from now on: a later save must not derive it back.
            .values(entry_cutoff_at=now, entry_cutoff_minutes=None)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if not closed:
        db.session.rollback()
        raise ExamDayError("entry_already_closed")
    audit.record(
        "exam.entry_closed",
        exam_id=exam_id,
        actor=actor,
        before=before.isoformat() if before else None,
        after=now.isoformat(),
    )
    db.session.commit()
    db.session.refresh(exam)
    changed = settle_exam(exam_id, now)
    bump_exam(exam_id)
    return changed
