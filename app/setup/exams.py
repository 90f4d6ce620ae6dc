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
    "allow_early_finish",
]

# How a final score is computed. Once any examiner has scored, changing these would score the
# candidates of one exam by two rules (the confirmed results keep the old one): they are fixed,
# as the score sheet is (app/scoring/sheets.py).
SCORING_FIELDS = ("scoring_rule", "trim_min_examiners", "trim_per_dimension", "score_decimals")
SCORING_FIXED = (
    "已有考官评分，计分规则不能再改，以保证本场考生按同一规则计分。 "
    "Scoring has begun: the rule is fixed so that every candidate is scored by the same rule."
)


# What interviews run by. Once the exam's first interview clock has started
# (Exam.interviews_started_at, set by journey's start_timer) a change would time, admit or score
# the rest of the day's candidates differently from those already interviewed. starts_at is
# here because a cut-off given as "start + N minutes" moves with it. The exam-day control
# 立即截止入场 (app/day/controls.py close_entry_now) still moves the cut-off: it is not the form.
# Names not (yet) among EXAM_FIELDS are skipped.
FROZEN_ONCE_STARTED = (
    "minutes_per_candidate",
    "reading_minutes",
    "starts_at",
    "entry_cutoff_at",
    "entry_cutoff_minutes",
    *SCORING_FIELDS,
)
INTERVIEWS_STARTED = (
    "面试已开始，此项不能再改，以保证本场考生按同一设置面试和计分。"
    " Interviews have started: this setting is fixed so that every candidate is interviewed and"
    " scored alike."
)


def interviews_started(exam: Exam) -> bool:
    return exam.interviews_started_at is not None


def frozen_fields(exam: Exam | None) -> dict[str, str]:
    """The form's fields that may no longer change, each with the reason the form shows."""
    if exam is None or exam.id is None:
        return {}
    if interviews_started(exam):
        return {name: INTERVIEWS_STARTED for name in FROZEN_ONCE_STARTED if name in EXAM_FIELDS}
    if is_frozen(exam.id):
        return dict.fromkeys(SCORING_FIELDS, SCORING_FIXED)
    return {}


def frozen_changes_refused(exam: Exam, values: dict) -> dict[str, str]:
    """The frozen fields `values` would change, each with its reason; {} if none."""
    frozen = frozen_fields(exam)
    return {
        name: reason
        for name, reason in frozen.items()
        if name in values and not _same_setting(values[name], getattr(exam, name))
    }


def keep_frozen(exam: Exam, values: dict) -> dict:
    """`values` with the frozen settings as stored: the form shows times to the minute, and a
    cut-off moved by 立即截止入场 has seconds the form would otherwise cut off."""
    return {**values, **{name: getattr(exam, name) for name in frozen_fields(exam)}}


def _same_setting(typed, stored) -> bool:
    if isinstance(typed, datetime) and isinstance(stored, datetime):
        return typed.replace(second=0, microsecond=0) == stored.replace(second=0, microsecond=0)
    return typed == stored


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
