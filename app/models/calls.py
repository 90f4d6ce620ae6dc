from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Model
from app.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    # SQLAlchemy resolves the quoted names from its registry at run time; this is for mypy.
    from app.models.staff import User


class Call(Model):
    """A staff member calling a candidate into a debug or interview call.

    A call rings until `accept_by`; not accepted by then it lapses and the candidate goes back
    to the queue with one more missed call.
    """

    __tablename__ = "call"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    panel_id: Mapped[int | None] = mapped_column(ForeignKey("panel.id"))
    kind: Mapped[str] = mapped_column(String(12))  # debug | interview
    room: Mapped[str] = mapped_column(String(100))
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    called_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accept_by: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # ringing | accepted | lapsed | cancelled | ended
    outcome: Mapped[str] = mapped_column(String(12), default="ringing")

    called_by: Mapped["User | None"] = relationship()


class HelpRequest(Model):
    """求助: a candidate's short message to the assistants, and the reply they see."""

    __tablename__ = "help_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reply: Mapped[str | None] = mapped_column(String(500))
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Violation(Model):
    """A violation flag (人像离屏, 接打电话, 与他人交流, 切屏, 其他) with a note."""

    __tablename__ = "violation"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Broadcast(Model):
    """A notice staff post to everyone waiting (e.g. a delay)."""

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    panel_id: Mapped[int | None] = mapped_column(ForeignKey("panel.id"))
    message: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
