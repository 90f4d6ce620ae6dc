"""Which panels a staff member works on: the basis of every staff page's scope."""

from sqlalchemy import exists, or_, select

from app import db
from app.day.supervision import is_supervisor, supervised_panels
from app.models import ExamSupervisor, Panel, PanelMember, User


def panels_of(user: User, role: str | None = None) -> list[Panel]:
    """The panels `user` works on (as `role`, if given); a 巡考 watches every panel of the exams
    assigned to them, in whichever role a page asks for (their pages are read-only)."""
    if is_supervisor(user):
        return supervised_panels(user)
    query = (
        select(Panel)
        .outerjoin(PanelMember, PanelMember.panel_id == Panel.id)
        .where(or_(PanelMember.user_id == user.id, Panel.chief_examiner_id == user.id))
        .order_by(Panel.exam_id, Panel.name)
        .distinct()
    )
    if role is not None:
        query = query.where(or_(PanelMember.role == role, Panel.chief_examiner_id == user.id))
    return list(db.session.scalars(query))


def works_on(user: User, panel: Panel, role: str | None = None) -> bool:
    """Whether `panel` is one of `panels_of(user, role)`, without loading them: every console
    poll asks it for one panel (an EXISTS, none for the panel's own chief examiner)."""
    if is_supervisor(user):
        return bool(
            db.session.scalar(
                select(
                    exists().where(
                        ExamSupervisor.user_id == user.id, ExamSupervisor.exam_id == panel.exam_id
                    )
                )
            )
        )
    if panel.chief_examiner_id == user.id:
        return True
    member = [PanelMember.panel_id == panel.id, PanelMember.user_id == user.id]
    if role is not None:
        member.append(PanelMember.role == role)
    return bool(db.session.scalar(select(exists().where(*member))))
