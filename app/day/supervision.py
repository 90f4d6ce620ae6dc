"""巡考 (roving supervisor): which exams a supervisor watches, how HR assigns them, and the one
name they carry in every call.

A supervisor sees every panel of the exams assigned to them (ExamSupervisor) through the
assistant's and examiners' own pages, read-only (`guard_blueprint(..., read_only_roles=...)`
refuses every write with 403), and joins calls as a visible observer without moderator rights.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from app import audit, db
from app.models import Exam, ExamSupervisor, Panel, Role, User

OBSERVER_PREFIX = "巡考"


class SupervisionError(ValueError):
    """An assignment HR cannot make (e.g. the account is not a 巡考); `message` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def observer_display_name(user: User) -> str:
    """The name a 巡考 carries in every call: "巡考 <name>". The one place that says so; a room
    guard that removes unknown participants must accept names made here."""
    return f"{OBSERVER_PREFIX} {user.display_name}"


def is_supervisor(user: User) -> bool:
    return getattr(user, "role", None) == Role.SUPERVISOR


def supervised_exam_ids(user: User) -> list[int]:
    return list(
        db.session.scalars(
            select(ExamSupervisor.exam_id)
            .where(ExamSupervisor.user_id == user.id)
            .order_by(ExamSupervisor.exam_id)
        )
    )


def supervised_panels(user: User) -> list[Panel]:
    """Every panel of the exams assigned to `user` (none unless they are an active 巡考)."""
    if not is_supervisor(user):
        return []
    return list(
        db.session.scalars(
            select(Panel)
            .join(ExamSupervisor, ExamSupervisor.exam_id == Panel.exam_id)
            .where(ExamSupervisor.user_id == user.id)
            .order_by(Panel.exam_id, Panel.name)
        )
    )


def supervisors_of(exam: Exam) -> list[ExamSupervisor]:
    return list(
        db.session.scalars(
            select(ExamSupervisor)
            .join(User, User.id == ExamSupervisor.user_id)
            .where(ExamSupervisor.exam_id == exam.id)
            .order_by(User.display_name, User.id)
        )
    )


def assignable_supervisors(exam: Exam) -> list[User]:
    """Active 巡考 accounts not yet assigned to `exam`."""
    assigned = select(ExamSupervisor.user_id).where(ExamSupervisor.exam_id == exam.id)
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.SUPERVISOR, User.active.is_(True), User.id.not_in(assigned))
            .order_by(User.display_name, User.id)
        )
    )


def assign_supervisor(exam: Exam, user_id: int) -> User:
    """Assign a 巡考 to `exam` (audited). Assigning one already assigned changes nothing."""
    user = db.session.get(User, user_id)
    if user is None or not is_supervisor(user) or not user.active:
        raise SupervisionError(_("Choose an active supervisor account."))
    existing = db.session.scalar(
        select(ExamSupervisor).where(
            ExamSupervisor.exam_id == exam.id, ExamSupervisor.user_id == user.id
        )
    )
    if existing is not None:
        return user
    # Two HR adding the same 巡考 at once: the unique (exam_id, user_id) keeps one row; the
    # loser's commit fails and the route tells them it is already done.
    db.session.add(ExamSupervisor(exam_id=exam.id, user_id=user.id))
    audit.record("supervisor.assigned", exam_id=exam.id, user=user.id, username=user.username)
    return user


def remove_supervisor(exam: Exam, user_id: int) -> User | None:
    """Remove a 巡考 from `exam` (audited); None when they were not assigned."""
    row = db.session.scalar(
        select(ExamSupervisor)
        .where(ExamSupervisor.exam_id == exam.id, ExamSupervisor.user_id == user_id)
        .with_for_update()
    )
    if row is None:
        return None
    user = row.user
    db.session.delete(row)
    audit.record("supervisor.removed", exam_id=exam.id, user=user.id, username=user.username)
    return user
