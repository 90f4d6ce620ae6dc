from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Model
from app.timeutil import UTCDateTime, utcnow


class ScoreDimension(Model):
    """评分要素 of an exam's score sheet, with its maximum."""

    __tablename__ = "score_dimension"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    max_score: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    guidance: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class ExaminerScore(Model):
    """One examiner's sheet for one candidate: a draft until submitted."""

    __tablename__ = "examiner_score"
    __table_args__ = (UniqueConstraint("candidate_id", "examiner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # Set when HR typed it in from a paper sheet.
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list["ScoreItem"]] = relationship(cascade="all, delete-orphan")


class ScoreItem(Model):
    __tablename__ = "score_item"
    __table_args__ = (UniqueConstraint("examiner_score_id", "dimension_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    examiner_score_id: Mapped[int] = mapped_column(ForeignKey("examiner_score.id"), index=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("score_dimension.id"))
    value: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))


class Recusal(Model):
    """回避: an examiner with a conflict is left out of this candidate's scoring."""

    __tablename__ = "recusal"
    __table_args__ = (UniqueConstraint("candidate_id", "examiner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CandidateResult(Model):
    """The final score once the chief examiner confirms it, and when it was published and seen."""

    __tablename__ = "candidate_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), unique=True)
    final_score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The candidate's online signature of the score sheet: cleared when a published score is
    # corrected, so that she confirms the score she now sees.
    seen_by_candidate_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last correction of a published score: what it was before, and when.
    corrected_from: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
