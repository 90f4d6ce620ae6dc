from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Model
from app.timeutil import UTCDateTime, utcnow


class FaceStill(Model):
    """One still from the candidate's own camera and what the face comparison made of it.

    Personal data with the exam's retention: the JPEG under instance/uploads/face_stills/ and
    the descriptor here go together (app/faces/stills.purge_face_data).
    """

    __tablename__ = "face_still"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # identity: sent in the debug call, compared with the ID photo; watch: every N seconds in
    # the interview and the rest room, compared with the day's reference.
    purpose: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20))  # the candidate's state when it came
    path: Mapped[str] = mapped_column(String(255))  # under the instance folder
    size: Mapped[int] = mapped_column(Integer)

    verdict: Mapped[str] = mapped_column(String(16), default="pending")
    faces: Mapped[int | None] = mapped_column(Integer)
    distance: Mapped[float | None] = mapped_column(Float)
    # What it was compared with: the ID photo, or the reference still (its id).
    compared_with: Mapped[str | None] = mapped_column(String(10))
    reference_still_id: Mapped[int | None] = mapped_column(Integer)
    # Faces found in the ID photo (identity stills): 0 or 2+ means nothing to compare with.
    reference_faces: Mapped[int | None] = mapped_column(Integer)
    descriptor: Mapped[bytes | None] = mapped_column(LargeBinary)
    analysis_ms: Mapped[int | None] = mapped_column(Integer)
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))
    # The day's reference: the identity still the assistant saw when pressing 身份已核验.
    is_reference: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
