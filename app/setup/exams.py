"""An exam's settings: what HR's form edits, what it may still change, how the audit sees it."""

from datetime import datetime

from sqlalchemy import select

from app import db
from app.models import Exam, ExamKind
from app.scoring.sheets import is_frozen

# Exam attributes the form edits, in the order the audit log lists them.
EXAM_FIELDS = [
    "name",
    "kind",
    "formal_exam_id",
    "login_opens_at",
    "login_closes_at",
    "entry_cutoff_at",
    "confirm_deadline_at",
    "minutes_per_candidate",
    "reading_minutes",
    "call_accept_seconds",
    "scoring_rule",
    "trim_min_examiners",
    "trim_per_dimension",
    "score_decimals",
    "tie_rule",
    "publish_mode",
    "requires_second_camera",
    "requires_id_photo",
    "requires_mock",
]

# How a final score is computed. Once any examiner has scored, changing these would score the
# candidates of one exam by two rules (the confirmed results keep the old one): they are fixed,
# as the score sheet is (app/scoring/sheets.py).
SCORING_FIELDS = ("scoring_rule", "trim_min_examiners", "trim_per_dimension", "score_decimals")
SCORING_FIXED = (
    "已有考官评分，计分规则不能再改，以保证本场考生按同一规则计分。 "
    "Scoring has begun: the rule is fixed so that every candidate is scored by the same rule."
)


def apply_exam_settings(exam: Exam, values: dict) -> None:
    """Set every EXAM_FIELDS attribute from `values`; a formal exam links to no formal exam and
    a mock needs no mock of its own."""
    for name in EXAM_FIELDS:
        setattr(exam, name, values[name])
    if exam.kind != ExamKind.MOCK or not exam.formal_exam_id:
        exam.formal_exam_id = None
    if exam.kind == ExamKind.MOCK:
        exam.requires_mock = False


def has_linked_mocks(exam: Exam) -> bool:
    """A formal exam that mocks link to cannot become a mock itself (the links would dangle)."""
    query = select(Exam.id).where(Exam.formal_exam_id == exam.id).limit(1)
    return db.session.scalar(query) is not None


def scoring_changes_refused(exam: Exam, values: dict) -> list[str]:
    """The SCORING_FIELDS that `values` would change although scoring has begun; [] if none."""
    changed = [name for name in SCORING_FIELDS if values[name] != getattr(exam, name)]
    if not changed or not is_frozen(exam.id):
        return []
    return changed


def exam_snapshot(exam: Exam) -> dict:
    """The edited settings as the audit log stores them (times as ISO text)."""
    return {name: _jsonable(getattr(exam, name)) for name in EXAM_FIELDS}


def changed_settings(before: dict, after: dict) -> list[str]:
    return [name for name in EXAM_FIELDS if before[name] != after[name]]


def entry_closable(exam: Exam, now: datetime) -> bool:
    """HR may close entry early only while it is open: after login opens, before the cut-off."""
    return exam.login_opens_at <= now and (
        exam.entry_cutoff_at is None or exam.entry_cutoff_at > now
    )


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value
