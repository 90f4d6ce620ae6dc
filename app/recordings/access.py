"""Who may see which recordings, and whether they may learn whom a file holds.

HR and admin see every recording (the unassigned too); assistants those of the exams of the
panels they work on (they check every candidate's identity in the debug call anyway).
Examiners never learn who a candidate is (app/routes/examiner/console.py): they see only the
interview-room recordings of the panels they sit on, the room they saw anyway, each candidate
named as on their console, "考生 07". A rest- or debug-room file (the candidate showing an ID
card to the assistant) and another panel's files are not theirs.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from app import db
from app.day.staff_scope import panels_of
from app.models import Candidate, Exam, Recording, RecordingStatus, Role, User


def names_shown_to(user: User) -> bool:
    """Whether `user` may see candidates' names on the recordings pages."""
    return user.role != Role.EXAMINER


def candidate_label(user: User, candidate: Candidate) -> str:
    return candidate.name if names_shown_to(user) else candidate.display_name_for_examiners


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


def scoped(query: Select, user: User) -> Select:
    """`query` (over Recording) narrowed to what `user` may see."""
    if user.role in (Role.HR, Role.ADMIN):
        return query
    if user.role == Role.EXAMINER:
        panel_ids = [p.id for p in panels_of(user)]
        return query.where(Recording.panel_id.in_(panel_ids), Recording.room_kind == "interview")
    exam_ids = [e.id for e in exams_visible_to(user)]
    return query.where(Recording.exam_id.in_(exam_ids))


def failed_count_for(user: User) -> int:
    """Failed recordings `user` may see: shown next to the menu entry on every staff page."""
    query = select(db.func.count(Recording.id)).where(Recording.status == RecordingStatus.FAILED)
    return db.session.scalar(scoped(query, user)) or 0


def may_see(user: User, recording: Recording) -> bool:
    if user.role in (Role.HR, Role.ADMIN):
        return True
    if recording.exam_id is None:
        return False
    if user.role == Role.EXAMINER:
        return recording.room_kind == "interview" and recording.panel_id in {
            p.id for p in panels_of(user)
        }
    return recording.exam_id in {e.id for e in exams_visible_to(user)}
