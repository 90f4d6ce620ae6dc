"""Exam-day controls HR uses while an exam is running.

Closing entry early is what an exam office does once everyone expected is in the waiting room:
the chief examiner may only call in lot order after the entry cut-off (the order is not final
before it), so waiting for a cut-off set weeks ago would idle the panels. Closing moves the
cut-off to now, and then the same rules apply as at a planned cut-off: whoever has not entered
is absent, whoever has not drawn gets a lot.
"""

from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, or_, update

from app import audit, db
from app.day.poll_versions import bump_exam
from app.journey import settle_exam
from app.models import Exam, User
from app.refusals import Refused
from app.timeutil import utcnow


class ExamDayError(Refused):
    """HR's exam-day controls said no (the HR route catches exactly these)."""


def close_entry_now(exam_id: int, actor: User, now: datetime | None = None) -> int:
    """Move the entry cut-off to `now`; returns how many candidates that changed.

    One conditional UPDATE: two HR officers clicking at once close it once, and the later click
    is told it was already closed.
    """
    now = now or utcnow()
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise ExamDayError("no_exam")
    if now < exam.login_opens_at:
        raise ExamDayError("login_not_open")
    before = exam.entry_cutoff_at
    # Session.execute is typed to return Result; an UPDATE's is a CursorResult, which has rowcount.
    closed = cast(
        CursorResult,
        db.session.execute(
            update(Exam)
            .where(
                Exam.id == exam_id, or_(Exam.entry_cutoff_at.is_(None), Exam.entry_cutoff_at > now)
            )
            .values(entry_cutoff_at=now)
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
