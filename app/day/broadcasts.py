"""Notices staff post to everyone waiting in a panel (e.g. "面试推迟10分钟开始").

Assistants and the chief examiner post from their own consoles; both go through here so the
rules, the audit line and the poll bump are the same.
"""

from sqlalchemy import select

from app import audit, db
from app.day.poll_versions import bump_panel
from app.models import Broadcast, Panel, User
from app.refusals import Refused

MAX_LENGTH = 200


def post_broadcast(author: User, panel: Panel, message: str) -> Broadcast:
    """Save and announce one notice; raises Refused with nothing saved."""
    text = (message or "").replace("\r\n", "\n").strip()
    if not text:
        raise Refused("broadcast_empty")
    if len(text) > MAX_LENGTH:
        raise Refused("broadcast_too_long", limit=MAX_LENGTH, length=len(text))
    broadcast = Broadcast(
        exam_id=panel.exam_id, panel_id=panel.id, message=text, created_by_id=author.id
    )
    db.session.add(broadcast)
    db.session.flush()
    audit.record(
        "broadcast.posted",
        exam_id=panel.exam_id,
        actor=author,
        panel=panel.id,
        broadcast=broadcast.id,
        message=text,
    )
    db.session.commit()
    # After the commit: a page that polls in between must already find the row.
    bump_panel(panel.id)
    return broadcast


def recent_broadcasts(panel: Panel, limit: int = 5) -> list[Broadcast]:
    """The panel's latest notices (and the exam-wide ones), newest first."""
    return list(
        db.session.scalars(
            select(Broadcast)
            .where(
                Broadcast.exam_id == panel.exam_id,
                (Broadcast.panel_id == panel.id) | Broadcast.panel_id.is_(None),
            )
            .order_by(Broadcast.id.desc())
            .limit(limit)
        )
    )
