"""Creating panels and staffing them."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from app import audit, db
from app.jitsi.rooms import new_room_name
from app.models import Exam, Panel, PanelMember, PanelRole, User
from app.setup.codes import allocate_codes


def room_prefix(exam: Exam) -> str:
    return f"ir-e{exam.id}"


def create_panel(exam: Exam, name: str) -> Panel:
    """A panel with fresh, unguessable interview and rest rooms and its rest-room code (休息室邀请码)."""
    (rest_code,) = allocate_codes(exam, 1)
    panel = Panel(
        exam=exam,
        name=name,
        interview_room=new_room_name(room_prefix(exam)),
        rest_room=new_room_name(room_prefix(exam)),
        rest_room_code=rest_code,
    )
    db.session.add(panel)
    db.session.flush()
    audit.record("panel.created", exam_id=exam.id, panel=panel.id, name=name)
    return panel


def set_panel_staff(
    panel: Panel, examiners: list[User], assistants: list[User], chief: User | None
) -> None:
    """Replace the panel's staff; the chief examiner must be one of its examiners."""
    if chief is not None and chief not in examiners:
        raise ValueError(_l("The chief examiner must be one of the panel's examiners."))
    overlap = set(examiners) & set(assistants)
    if overlap:
        raise ValueError(_l("A staff member cannot be examiner and assistant of the same panel."))
    before = _staff_summary(panel)
    db.session.execute(delete(PanelMember).where(PanelMember.panel_id == panel.id))
    db.session.flush()
    db.session.expire(panel, ["members"])
    for user in examiners:
        db.session.add(PanelMember(panel_id=panel.id, user_id=user.id, role=PanelRole.EXAMINER))
    for user in assistants:
        db.session.add(PanelMember(panel_id=panel.id, user_id=user.id, role=PanelRole.ASSISTANT))
    panel.chief_examiner_id = chief.id if chief is not None else None
    db.session.flush()
    db.session.expire(panel, ["members"])
    audit.record(
        "panel.staffed",
        exam_id=panel.exam_id,
        panel=panel.id,
        before=before,
        after=_staff_summary(panel),
    )


def _staff_summary(panel: Panel) -> dict:
    return {
        "examiners": sorted(m.user_id for m in panel.members if m.role == PanelRole.EXAMINER),
        "assistants": sorted(m.user_id for m in panel.members if m.role == PanelRole.ASSISTANT),
        "chief": panel.chief_examiner_id,
    }


def panel_name_taken(exam: Exam, name: str, panel: Panel | None = None) -> bool:
    """Panel names are unique within an exam (`panel` itself excepted, when renaming it)."""
    query = select(Panel.id).where(Panel.exam_id == exam.id, Panel.name == name)
    if panel is not None:
        query = query.where(Panel.id != panel.id)
    return db.session.scalar(query) is not None


def examiners_on_other_panels(panel: Panel, user_ids: list[int]) -> list[str]:
    """An examiner sits in one interview room at a time: at most one panel per exam.

    "name（panel）" for each of `user_ids` already examining on another panel of the exam."""
    if not user_ids:
        return []
    rows = db.session.execute(
        select(User.display_name, Panel.name)
        .join(PanelMember, PanelMember.user_id == User.id)
        .join(Panel, Panel.id == PanelMember.panel_id)
        .where(
            Panel.exam_id == panel.exam_id,
            Panel.id != panel.id,
            PanelMember.role == PanelRole.EXAMINER,
            User.id.in_(user_ids),
        )
        .order_by(User.display_name)
    ).all()
    return [f"{user}（{panel_name}）" for user, panel_name in rows]
