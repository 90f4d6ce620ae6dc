from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app import db
from app.models.base import Model
from app.timeutil import UTCDateTime, utcnow


class AuditEvent(Model):
    """Append-only event log: every code attempt, login, state change, call, score, recording.

    No foreign keys on purpose: the log must never block deleting a row it mentions, nor lose
    its lines when that row goes. Updates and deletes are refused here and, on PostgreSQL, by a
    trigger (see the migration), so the log holds even against a careless script.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    actor_type: Mapped[str] = mapped_column(String(12))  # candidate | staff | system | anonymous
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    exam_id: Mapped[int | None] = mapped_column(Integer, index=True)
    candidate_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    data: Mapped[dict] = mapped_column(db.JSON, default=dict)


class AppendOnlyViolation(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):
    raise AppendOnlyViolation("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AppendOnlyViolation("audit events are append-only")
