from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Model
from app.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    # SQLAlchemy resolves the quoted names from its registry at run time; this is for mypy.
    from app.models.exam import Exam, Panel


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


_S = CandidateState

# --- state groups: each set of states defined once, named for what it means -----------------

# Confirmed or not yet, before the debug room: may still decline or change the ID photo. Absent
# once the entry cut-off passes (the time rule mark_absent), unless the exam office reinstated them.
BEFORE_DEBUG = frozenset({_S.INVITED, _S.CONFIRMED})
# Signed in to the debug queue, in a debug call or debugged: in by the cut-off, so the cut-off
# does not make them absent (公平截止): they finish debugging and enter the waiting room late.
IN_DEBUG = frozenset({_S.DEBUG_WAITING, _S.DEBUG_CALLED, _S.DEBUGGING, _S.DEBUGGED})
# Not in the waiting room yet.
PRE_ENTRY = BEFORE_DEBUG | IN_DEBUG
# HR may still move them to another panel: before the day's rooms know them. Once they wait for
# a debug call (or later) an assistant, a lot number or a panel queue counts on where they are.
MOVABLE = BEFORE_DEBUG | {_S.DECLINED}
# A call is ringing: it lapses back to the queue at its accept_by unless accepted.
RINGING = frozenset({_S.DEBUG_CALLED, _S.INTERVIEW_CALLED})
# The panel's one slot: called into the interview room, or in it.
IN_INTERVIEW = frozenset({_S.INTERVIEW_CALLED, _S.INTERVIEWING})
# In the waiting room's queue or with the panel.
IN_QUEUE_OR_ROOM = IN_INTERVIEW | {_S.WAITING}
# Still to be interviewed after the cut-off: what the rest room waits for then (besides those
# before debug whom the exam office reinstated, a column, not a state: journey.release_hold).
STILL_IN_AFTER_CUTOFF = IN_DEBUG | IN_QUEUE_OR_ROOM
# Still to be interviewed before the cut-off: may yet enter, so the rest room waits for them too.
STILL_TO_INTERVIEW = PRE_ENTRY | IN_QUEUE_OR_ROOM
# Inside the exam (entered the waiting room, not released): may come back after the login
# window closed, after a dropped connection.
INSIDE = IN_QUEUE_OR_ROOM | {_S.FINISHED, _S.RESTING}
# May sign in again after the login window closed (after a dropped connection): whoever is
# inside, and whoever came in before the cut-off and is still being debugged (the fair cut-off
# lets them finish and enter the waiting room however late).
MAY_RETURN = INSIDE | IN_DEBUG
# The interview is over and stands: the score is shown.
INTERVIEWED = frozenset({_S.FINISHED, _S.RESTING, _S.RELEASED})
# Examiners may score: INTERVIEWED, plus the interview under way.
SCORABLE = INTERVIEWED | {_S.INTERVIEWING}
# Out of the exam without a score (放弃, 缺考, 取消资格): no score counts, even one entered.
OUT = frozenset({_S.DECLINED, _S.ABSENT, _S.DISQUALIFIED})
# The way is over: no move or time rule follows (but disqualifying the released, see journey).
FINAL = OUT | {_S.RELEASED}
NOT_FINAL = frozenset(CandidateState) - FINAL


# Shown to candidates (always in Chinese) and to staff in their language; files and the audit keep
# the Chinese (str() under zh_CN, see app/scoring/results.py).
STATE_LABELS = {
    CandidateState.INVITED: _l("Invited"),
    CandidateState.CONFIRMED: _l("Confirmed to attend"),
    CandidateState.DECLINED: _l("Declined to attend"),
    CandidateState.DEBUG_WAITING: _l("Waiting for the device check"),
    CandidateState.DEBUG_CALLED: _l("Called to the device check"),
    CandidateState.DEBUGGING: _l("In the device check"),
    CandidateState.DEBUGGED: _l("Device check done"),
    CandidateState.WAITING: _l("In the interview waiting room"),
    CandidateState.INTERVIEW_CALLED: _l("Called to the interview"),
    CandidateState.INTERVIEWING: _l("In the interview"),
    CandidateState.FINISHED: _l("Interview over"),
    CandidateState.RESTING: _l("In the rest room"),
    CandidateState.RELEASED: _l("Left the exam"),
    CandidateState.ABSENT: _l("Absent"),
    CandidateState.DISQUALIFIED: _l("Disqualified"),
}


class Candidate(Model):
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
    # Admitted by the exam office after the entry cut-off (reinstated, or a disqualification
    # undone): the cut-off no longer makes them absent.
    reinstated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 平台故障重新面试: back at the head of the panel's queue until called again.
    requeued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # 佐证/辅机位: the phone binds with this short code; staff see when it was last present.
    second_camera_code: Mapped[str | None] = mapped_column(String(8), unique=True)
    second_camera_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 辅机位已核验: the assistant saw the phone's angle during debugging.
    second_camera_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Integrity signals shown as badges on the watchers' consoles: suspected screen switches
    # (疑似切屏) and takeovers by a second sign-in (多屏登录). Bumped with a plain UPDATE that
    # leaves `version` alone: a signal never makes a staff move stale.
    switch_signals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    takeovers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 人脸核验 signals (app/faces/signals.py), bumped the same way: 人像离屏, 他人在场, 疑似替考,
    # and stills that stopped arriving (画面中断).
    face_away_signals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    face_others_signals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    face_mismatch_signals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    stills_stopped_signals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # How many of the row's `version` bumps were spot-check moves (ring, accept, hang up, lapse:
    # app/journey.py). The assistant's board and the examiners' room show nothing of a spot
    # check, so their version leaves these out (app/day/consoles.py, `panel_version`).
    spot_check_moves: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 告知: accepted the exam's face-check notice (where the exam asks for face checks).
    face_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Under review (app/retention/review.py), which retention never purges: an open dispute or
    # appeal (申诉/复核) held by HR, with its reason; and when HR last closed a review, which
    # lets a disqualification or violation flags from before then go the way of the rest.
    review_hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_hold_reason: Mapped[str | None] = mapped_column(String(500))
    review_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    exam: Mapped["Exam"] = relationship()
    panel: Mapped["Panel | None"] = relationship()

    # Every UPDATE of a candidate checks and bumps `version` (compare-and-set): of two staff
    # acting on the same candidate at once, the second gets StaleDataError instead of
    # silently applying a move to a state that no longer holds.
    __mapper_args__ = {"version_id_col": version}

    @property
    def state_label(self) -> str:
        """The state in the words of the request's language (a candidate's: Chinese)."""
        return str(STATE_LABELS.get(CandidateState(self.state), self.state))

    @property
    def display_name_for_examiners(self) -> str:
        # Examiners never learn names: "考生 07" in the call and on their pages.
        return f"考生 {self.lot_number:02d}" if self.lot_number is not None else "考生"

    @property
    def masked_id_number(self) -> str:
        return self.id_number[:6] + "********" + self.id_number[-4:]

    @property
    def masked_phone(self) -> str:
        """138****5678: for staff who may call her back through the assistant, not dial her."""
        return self.phone[:3] + "****" + self.phone[-4:] if len(self.phone) >= 7 else "****"

    def __repr__(self) -> str:
        return f"<Candidate {self.id} {self.state}>"


class NoticeAck(Model):
    """已阅 of one notice by one candidate."""

    __tablename__ = "notice_ack"
    __table_args__ = (UniqueConstraint("notice_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
