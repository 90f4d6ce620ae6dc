from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import db
from app.timeutil import UTCDateTime, utcnow


class CandidateState(StrEnum):
    """Where a candidate is on the way through (SPEC "The candidate's way through").

    The allowed moves between these live in one module (the journey); this is only the vocabulary.
    """

    INVITED = "invited"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    DEBUG_WAITING = "debug_waiting"
    DEBUG_CALLED = "debug_called"
    DEBUGGING = "debugging"
    DEBUGGED = "debugged"
    WAITING = "waiting"
    INTERVIEW_CALLED = "interview_called"
    INTERVIEWING = "interviewing"
    FINISHED = "finished"
    RESTING = "resting"
    RELEASED = "released"
    ABSENT = "absent"
    DISQUALIFIED = "disqualified"


STATE_LABELS = {
    CandidateState.INVITED: "已邀请",
    CandidateState.CONFIRMED: "已确认参加",
    CandidateState.DECLINED: "放弃参加",
    CandidateState.DEBUG_WAITING: "调试等候",
    CandidateState.DEBUG_CALLED: "调试呼叫中",
    CandidateState.DEBUGGING: "调试中",
    CandidateState.DEBUGGED: "调试完毕",
    CandidateState.WAITING: "面试等待",
    CandidateState.INTERVIEW_CALLED: "面试呼叫中",
    CandidateState.INTERVIEWING: "面试中",
    CandidateState.FINISHED: "面试结束",
    CandidateState.RESTING: "休息室",
    CandidateState.RELEASED: "已离场",
    CandidateState.ABSENT: "缺考",
    CandidateState.DISQUALIFIED: "取消资格",
}


class Candidate(db.Model):
    __tablename__ = "candidate"
    __table_args__ = (
        UniqueConstraint("exam_id", "id_number"),
        # Lots are drawn per panel: the panel's chief calls in this order.
        UniqueConstraint("panel_id", "lot_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    panel_id: Mapped[int | None] = mapped_column(ForeignKey("panel.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(11))
    position: Mapped[str] = mapped_column(String(100))
    # 邀请码: identifier and secret at once; unique among exams whose login windows overlap.
    code: Mapped[str] = mapped_column(String(6), index=True)

    state: Mapped[str] = mapped_column(String(20), default=CandidateState.INVITED, index=True)
    # Bumped on every change that a candidate's page shows: the poll's ETag and the
    # compare-and-set guard against two staff acting at once.
    version: Mapped[int] = mapped_column(Integer, default=1)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lot_number: Mapped[int | None] = mapped_column(Integer)
    lot_assigned: Mapped[bool] = mapped_column(default=False)  # True = not drawn, given at cut-off

    # The browser that holds the code now; a second sign-in replaces it (不得多屏登录).
    session_nonce: Mapped[str | None] = mapped_column(String(32))

    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    id_photo_path: Mapped[str | None] = mapped_column(String(255))
    identity_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    debugged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reading_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timer_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_calls: Mapped[int] = mapped_column(Integer, default=0)

    # 佐证/辅机位: the phone binds with this short code; staff see when it was last present.
    second_camera_code: Mapped[str | None] = mapped_column(String(8), unique=True)
    second_camera_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    exam: Mapped["Exam"] = relationship()  # noqa: F821
    panel: Mapped["Panel | None"] = relationship()  # noqa: F821

    # Every UPDATE of a candidate checks and bumps `version` (compare-and-set): of two staff
    # acting on the same candidate at once, the second gets StaleDataError instead of
    # silently applying a move to a state that no longer holds.
    __mapper_args__ = {"version_id_col": version}

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(CandidateState(self.state), self.state)

    @property
    def display_name_for_examiners(self) -> str:
        # Examiners never learn names: "考生 07" in the call and on their pages.
        return f"考生 {self.lot_number:02d}" if self.lot_number is not None else "考生"

    @property
    def masked_id_number(self) -> str:
        return self.id_number[:6] + "********" + self.id_number[-4:]

    def __repr__(self) -> str:
        return f"<Candidate {self.id} {self.state}>"


class NoticeAck(db.Model):
    """已阅 of one notice by one candidate."""

    __tablename__ = "notice_ack"
    __table_args__ = (UniqueConstraint("notice_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
