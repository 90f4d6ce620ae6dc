from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app import db
from app.models.base import Model
from app.timeutil import UTCDateTime, utcnow


class RecordingStatus(StrEnum):
    WAITING = "waiting"
    PULLING = "pulling"
    STORED = "stored"
    FAILED = "failed"


class Recording(Model):
    """One file Jibri made. A room the app does not know is kept unassigned, never dropped."""

    __tablename__ = "recording"
    # Jibri's session folder plus the file name identify a file: a repeated notice is the same.
    __table_args__ = (UniqueConstraint("session_folder", "file_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room: Mapped[str] = mapped_column(String(200), index=True)
    session_folder: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(300))
    exam_id: Mapped[int | None] = mapped_column(ForeignKey("exam.id"), index=True)
    panel_id: Mapped[int | None] = mapped_column(ForeignKey("panel.id"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id"), index=True)
    room_kind: Mapped[str | None] = mapped_column(String(12))  # interview | rest | debug

    expected_size: Mapped[int] = mapped_column(BigInteger)
    expected_sha256: Mapped[str] = mapped_column(String(64))
    bytes_pulled: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12), default=RecordingStatus.WAITING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    stored_path: Mapped[str | None] = mapped_column(String(500))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # When Jibri started the file (from its name), which tells whose interview it holds.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    metadata_json: Mapped[dict | None] = mapped_column(db.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
