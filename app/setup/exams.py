"""An exam's settings: what HR's form edits, what it may still change, how the audit sees it."""

from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from app import db
from app.models import Exam, ExamKind
from app.scoring.sheets import is_frozen

# The schedule's fields, as schedule_problems reads them.
SCHEDULE_FIELDS = (
    "starts_at",
    "login_lead_minutes",
    "login_opens_at",
    "login_closes_at",
    "entry_cutoff_minutes",
    "entry_cutoff_at",
    "waiting_opens_minutes",
    "confirm_opens_at",
    "confirm_deadline_at",
)

# Days after the login closes that `flask retention purge` deletes each kind of stored personal
# data (app/retention/kinds.py); blank keeps it.
RETENTION_FIELDS = ("retain_recordings_days", "retain_id_photos_days", "retain_evidence_days")

# Exam attributes the form edits, in the order the audit log lists them.
EXAM_FIELDS = [
    "name",
    "kind",
    "formal_exam_id",
    *SCHEDULE_FIELDS,
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
    "record_waiting_room",
    *RETENTION_FIELDS,
    "face_checks",
    "face_check_purpose",
    "face_check_interval_seconds",
]

# How a final score is computed. Once any examiner has scored, changing these would score the
# candidates of one exam by two rules (the confirmed results keep the old one): they are fixed,
# as the score sheet is (app/scoring/sheets.py).
SCORING_FIELDS = ("scoring_rule", "trim_min_examiners", "trim_per_dimension", "score_decimals")
SCORING_FIXED = _l(
    "Scoring has begun: the rule is fixed so that every candidate is scored by the same rule."
)


# What interviews run by. Once the exam's first interview clock has started
# (Exam.interviews_started_at, set by journey's start_timer) a change would time, admit or score
# the rest of the day's candidates differently from those already interviewed. starts_at is
# here because a cut-off given as "start + N minutes" moves with it. The exam-day control
# 立即截止入场 (app/day/controls.py close_entry_now) still moves the cut-off: it is not the form.
FROZEN_ONCE_STARTED = (
    "minutes_per_candidate",
    "reading_minutes",
    "starts_at",
    "entry_cutoff_at",
    "entry_cutoff_minutes",
    *SCORING_FIELDS,
)
INTERVIEWS_STARTED = _l(
    "Interviews have started: this setting is fixed so that every candidate is interviewed and"
    " scored alike."
)


def interviews_started(exam: Exam) -> bool:
    return exam.interviews_started_at is not None


def frozen_fields(exam: Exam | None) -> dict[str, str]:
    """The form's fields that may no longer change, each with the reason the form shows."""
    if exam is None or exam.id is None:
        return {}
    if interviews_started(exam):
        return dict.fromkeys(FROZEN_ONCE_STARTED, str(INTERVIEWS_STARTED))
    if is_frozen(exam.id):
        return dict.fromkeys(SCORING_FIELDS, str(SCORING_FIXED))
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
        return _same_minute(typed, stored)
    return typed == stored


def _same_minute(typed: datetime, stored: datetime) -> bool:
    """The form shows and sends times to the minute; a stored time may have seconds (立即截止入场)."""
    return typed.replace(second=0, microsecond=0) == stored.replace(second=0, microsecond=0)


def apply_exam_settings(exam: Exam, values: dict) -> None:
    """Set every EXAM_FIELDS attribute from `values`; a formal exam links to no formal exam and
    a mock needs no mock of its own."""
    for name in EXAM_FIELDS:
        setattr(exam, name, values[name])
    derive_schedule(exam)
    if exam.kind != ExamKind.MOCK or not exam.formal_exam_id:
        exam.formal_exam_id = None
    if exam.kind == ExamKind.MOCK:
        exam.requires_mock = False


def derive_schedule(exam: Exam) -> None:
    """The stored, effective times from the start where they were given as minutes (提前N分钟登录,
    开考后N分钟截止入场): every query reads login_opens_at and entry_cutoff_at, and moving the
    start moves them on save."""
    start = exam.starts_at
    if start is None:
        return
    if exam.login_lead_minutes is not None:
        exam.login_opens_at = start - timedelta(minutes=exam.login_lead_minutes)
    if exam.entry_cutoff_minutes is not None:
        exam.entry_cutoff_at = start + timedelta(minutes=exam.entry_cutoff_minutes)


BOTH_LOGIN = _l("Give the lead or the time, not both.")
NO_LOGIN = _l("Give the lead in minutes or the time.")
BOTH_CUTOFF = _l("Give minutes after the start or a time, not both.")
NO_CUTOFF = _l(
    "Required: minutes after the start, or a clock time (one or the other); whoever has not"
    " started debugging by the cut-off is absent."
)


def schedule_problems(values: dict, stored_cutoff: datetime | None = None) -> dict[str, str]:
    """What is wrong with a schedule as typed (field -> words), {} if nothing. `values` holds the
    schedule's EXAM_FIELDS; starts_at and login_closes_at are given (the form requires them).

    `stored_cutoff` is the exam's cut-off as saved: 立即截止入场 may have put it before the
    start (everyone was in early), and re-saving the form unchanged must not be refused for it."""
    start, closes = values["starts_at"], values["login_closes_at"]
    lead, opens = values["login_lead_minutes"], values["login_opens_at"]
    cutoff_minutes, cutoff = values["entry_cutoff_minutes"], values["entry_cutoff_at"]
    problems: dict[str, str] = {}
    if lead is not None and opens is not None and opens != start - timedelta(minutes=lead):
        _note(problems, "login_opens_at", BOTH_LOGIN)
    elif lead is None and opens is None:
        _note(problems, "login_opens_at", NO_LOGIN)
    elif lead is not None:
        opens = start - timedelta(minutes=lead)
    if cutoff_minutes is not None and cutoff is not None:
        _note(problems, "entry_cutoff_at", BOTH_CUTOFF)
    elif cutoff_minutes is None and cutoff is None:
        _note(problems, "entry_cutoff_at", NO_CUTOFF)
    elif cutoff_minutes is not None:
        cutoff = start + timedelta(minutes=cutoff_minutes)
    if start >= closes:
        _note(problems, "login_closes_at", _("Must be after the exam starts."))
    if opens is not None and "login_opens_at" not in problems:
        if opens > start:
            _note(
                problems,
                "login_opens_at",
                _("The login must open by the start."),
            )
        elif opens >= closes:
            _note(problems, "login_closes_at", _("Must be after the login opens."))
    kept = cutoff is not None and stored_cutoff is not None and _same_minute(cutoff, stored_cutoff)
    too_early = cutoff is not None and cutoff < start and not kept
    if cutoff is not None and "entry_cutoff_at" not in problems and (too_early or cutoff > closes):
        _note(
            problems,
            "entry_cutoff_at",
            _("The cut-off must be at or after the start and not after the login closes."),
        )
    _confirm_problems(values, opens, closes, problems)
    return problems


def _confirm_problems(values: dict, opens, closes, problems: dict[str, str]) -> None:
    """确认期 [confirm_opens_at, confirm_deadline_at): may be days before the exam day."""
    confirm_from, confirm_by = values["confirm_opens_at"], values["confirm_deadline_at"]
    if confirm_by is not None and confirm_by >= closes:
        _note(problems, "confirm_deadline_at", _("Must be before the login closes."))
    if confirm_from is None:
        return
    if confirm_by is None:
        _note(
            problems,
            "confirm_deadline_at",
            _("A confirmation period needs its end."),
        )
    elif confirm_from >= confirm_by:
        _note(
            problems,
            "confirm_opens_at",
            _("The confirmation period must start before it ends."),
        )
    elif opens is not None and confirm_from > opens:
        _note(
            problems,
            "confirm_opens_at",
            _(
                "The confirmation period must begin before the exam-day login opens (it may be"
                " days before)."
            ),
        )


def _note(problems: dict[str, str], name: str, message: "str | LazyString") -> None:
    # The first problem found for a field is the one to fix first.
    problems.setdefault(name, str(message))


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
