"""Who may see which recordings: HR and admin every one (the unassigned too), examiners and
assistants those of the exams of the panels they work on."""

from __future__ import annotations

from sqlalchemy import select

from app import db
from app.day.staff_scope import panels_of
from app.models import Exam, Recording, RecordingStatus, Role, User


def exams_visible_to(user: User) -> list[Exam]:
    """HR and admin: every exam; examiners and assistants: the exams of the panels they work on."""
    if user.role in (Role.HR, Role.ADMIN):
        return list(db.session.scalars(select(Exam).order_by(Exam.login_opens_at.desc())))
    exam_ids = {p.exam_id for p in panels_of(user)}
    if not exam_ids:
        return []
    return list(
        db.session.scalars(
            select(Exam).where(Exam.id.in_(exam_ids)).order_by(Exam.login_opens_at.desc())
        )
    )


def failed_count_for(user: User) -> int:
    """Failed recordings `user` may see: shown next to the menu entry on every staff page."""
    query = select(db.func.count(Recording.id)).where(Recording.status == RecordingStatus.FAILED)
    if user.role not in (Role.HR, Role.ADMIN):
        exam_ids = [e.id for e in exams_visible_to(user)]
        if not exam_ids:
            return 0
        query = query.where(Recording.exam_id.in_(exam_ids))
    return db.session.scalar(query) or 0


def may_see(user: User, recording: Recording) -> bool:
    if user.role in (Role.HR, Role.ADMIN):
        return True
    if recording.exam_id is None:
        return False
    return recording.exam_id in {e.id for e in exams_visible_to(user)}
