"""The data model of the whole product, one module per area.

Importing this package registers every table with SQLAlchemy's metadata, which Alembic reads.
"""

from app.models.audit import AuditEvent
from app.models.calls import Broadcast, Call, HelpRequest, Violation
from app.models.candidate import Candidate, CandidateState, NoticeAck
from app.models.exam import (
    Exam,
    ExamKind,
    ExamSupervisor,
    Notice,
    Panel,
    PanelMember,
    PanelRole,
    QuestionSet,
)
from app.models.face import FaceStill
from app.models.recording import Recording, RecordingStatus
from app.models.scoring import CandidateResult, ExaminerScore, Recusal, ScoreDimension, ScoreItem
from app.models.staff import Role, User

__all__ = [
    "AuditEvent",
    "Broadcast",
    "Call",
    "Candidate",
    "CandidateResult",
    "CandidateState",
    "Exam",
    "ExamKind",
    "ExamSupervisor",
    "ExaminerScore",
    "FaceStill",
    "HelpRequest",
    "Notice",
    "NoticeAck",
    "Panel",
    "PanelMember",
    "PanelRole",
    "QuestionSet",
    "Recording",
    "RecordingStatus",
    "Recusal",
    "Role",
    "ScoreDimension",
    "ScoreItem",
    "User",
    "Violation",
]
