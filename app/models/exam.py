from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Model
from app.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    # SQLAlchemy resolves the quoted names from its registry at run time; this is for mypy.
    from app.models.staff import User


class ExamKind(StrEnum):
    MOCK = "mock"  # 模拟面试: its own codes, no scores that count
    FORMAL = "formal"  # 正式面试


class PanelRole(StrEnum):
    EXAMINER = "examiner"
    ASSISTANT = "assistant"


class Exam(Model):
    __tablename__ = "exam"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default=ExamKind.FORMAL)
    # A mock interview is usually held for a formal one; the link lets HR copy candidates over.
    formal_exam_id: Mapped[int | None] = mapped_column(ForeignKey("exam.id"))

    # The schedule (SPEC "The exam's schedule"). 开考时间: the first interview may start then.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    login_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    login_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the login opening is given as "N minutes before the start": a moved start moves it.
    login_lead_minutes: Mapped[int | None] = mapped_column(Integer)
    # 入场截止: whoever has not come in by then (not signed in and queued for debugging) is
    # absent (缺考).
    entry_cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the cut-off is given as "start + N minutes" (面试开始3分钟后不再允许进入).
    entry_cutoff_minutes: Mapped[int | None] = mapped_column(Integer)
    # 进入面试等待室 activates this many minutes before the start (None: once debugged).
    waiting_opens_minutes: Mapped[int | None] = mapped_column(Integer)
    # 确认期: candidates may sign in to confirm or decline from then until the deadline, days
    # before the exam-day login (SEED 000). No answer by the deadline counts as declined.
    confirm_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirm_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 允许提前结束面试: off, 面试结束 is refused until the countdown reaches zero (SEED 004
    # 不允许提前交卷).
    allow_early_finish: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # When the exam's first interview clock started: from then the settings that interviews
    # run by are frozen (app/setup/exams.py).
    interviews_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    minutes_per_candidate: Mapped[int] = mapped_column(Integer, default=10)
    # 看题时间: questions shown, answer clock not yet running (0 = none).
    reading_minutes: Mapped[int] = mapped_column(Integer, default=0)
    call_accept_seconds: Mapped[int] = mapped_column(Integer, default=60)

    # Scoring rule: "trimmed" drops one highest and one lowest when at least
    # `trim_min_examiners` scored, "plain" always averages.
    scoring_rule: Mapped[str] = mapped_column(String(16), default="trimmed")
    trim_min_examiners: Mapped[int] = mapped_column(Integer, default=5)
    trim_per_dimension: Mapped[bool] = mapped_column(Boolean, default=False)
    score_decimals: Mapped[int] = mapped_column(Integer, default=2)
    tie_rule: Mapped[str] = mapped_column(String(16), default="tied")
    # "instant" = 成绩当场公布 once the chief confirms; "hold" = HR publishes later.
    publish_mode: Mapped[str] = mapped_column(String(16), default="instant")

    requires_second_camera: Mapped[bool] = mapped_column(Boolean, default=False)
    # The waiting room's supervision call (候考随机检查, SEED 003) is recorded too when set.
    record_waiting_room: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    requires_id_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    # 人脸核验 (app/faces/): the candidate's camera stills are compared with the ID photo and the
    # day's reference. Candidates must accept the notice (its purpose in the exam's words) first.
    face_checks: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    face_check_purpose: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A still every N seconds in the interview and the rest room; 0 = only at the identity check.
    face_check_interval_seconds: Mapped[int] = mapped_column(
        Integer, default=30, server_default="30"
    )
    # Formal exams only: 未参加网络模拟面试的考生无法参加网络正式面试 (SEED 004).
    requires_mock: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Retention (PIPL: personal data no longer than needed): days after the login closes that
    # `flask retention purge` deletes each kind of stored personal data (app/retention/kinds.py).
    # None keeps it: nothing is deleted unless the exam office set a number.
    retain_recordings_days: Mapped[int | None] = mapped_column(Integer)
    retain_id_photos_days: Mapped[int | None] = mapped_column(Integer)
    # Face-check stills and other evidence images (registered as kinds where they are stored).
    retain_evidence_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    panels: Mapped[list["Panel"]] = relationship(
        back_populates="exam", order_by="Panel.id", cascade="all, delete-orphan"
    )
    notices: Mapped[list["Notice"]] = relationship(
        order_by="Notice.position", cascade="all, delete-orphan"
    )
    question_sets: Mapped[list["QuestionSet"]] = relationship(
        order_by="QuestionSet.position", cascade="all, delete-orphan"
    )

    @property
    def is_mock(self) -> bool:
        return self.kind == ExamKind.MOCK

    def login_open_at(self, moment: datetime) -> bool:
        return self.login_opens_at <= moment < self.login_closes_at

    def __repr__(self) -> str:
        return f"<Exam {self.id} {self.name}>"


class Panel(Model):
    """An examiner panel (考场/面试组) with its interview room and rest room."""

    __tablename__ = "panel"
    __table_args__ = (UniqueConstraint("exam_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    interview_room: Mapped[str] = mapped_column(String(100), unique=True)
    rest_room: Mapped[str] = mapped_column(String(100), unique=True)
    rest_room_code: Mapped[str] = mapped_column(String(6), index=True)
    chief_examiner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    rest_room_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every move that changes who is queued or called in this panel. Updating this
    # row first serialises such moves on PostgreSQL (row lock) and SQLite (write lock) alike,
    # so two clicks can never call two candidates into one room.
    queue_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    exam: Mapped[Exam] = relationship(back_populates="panels")
    chief_examiner: Mapped["User | None"] = relationship()
    members: Mapped[list["PanelMember"]] = relationship(
        back_populates="panel", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Panel {self.id} {self.name}>"


class PanelMember(Model):
    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("panel_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    panel: Mapped[Panel] = relationship(back_populates="members")
    user: Mapped["User"] = relationship()


class Notice(Model):
    """考试附件: each must be marked 已阅 before the candidate goes on."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuestionSet(Model):
    """题本: shown to the candidate only once timing starts; the guide only to examiners."""

    __tablename__ = "question_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    # None = used by every panel of the exam.
    panel_id: Mapped[int | None] = mapped_column(ForeignKey("panel.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    scoring_guide: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class ExamSupervisor(Model):
    """巡考: a roving supervisor assigned to an exam sees every panel of it and changes nothing."""

    __tablename__ = "exam_supervisor"
    __table_args__ = (UniqueConstraint("exam_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship()
