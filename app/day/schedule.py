"""The exam's schedule as moments: which window is open now, and when the next one opens.

The stored columns are the effective times (login_opens_at, entry_cutoff_at: derived from the
start on save, app/setup/exams.py); only the waiting room's opening is kept as minutes before
the start, because the start is what the exam office moves. Every function reads an Exam or
anything with the same attribute names (the quick poll's ExamTimes).
"""

from datetime import datetime, timedelta


def start_of(exam) -> datetime:
    """开考时间; an exam from before the schedule had none and started when login opened."""
    return exam.starts_at or exam.login_opens_at


def waiting_opens_at(exam) -> datetime | None:
    """When 进入面试等待室 activates (starts_at - waiting_opens_minutes); None: no gate."""
    if exam.waiting_opens_minutes is None:
        return None
    return start_of(exam) - timedelta(minutes=exam.waiting_opens_minutes)


def waiting_open(exam, now: datetime) -> bool:
    opens = waiting_opens_at(exam)
    return opens is None or now >= opens


def login_window_open(exam, now: datetime) -> bool:
    """The exam-day login: the debug room, and what follows, only then."""
    return exam.login_opens_at <= now < exam.login_closes_at


def confirm_period_open(exam, now: datetime) -> bool:
    """确认期 [confirm_opens_at, confirm_deadline_at): signing in to confirm or decline, read the
    notices and upload the ID photo, days before the exam-day login (SEED 000)."""
    opens, closes = exam.confirm_opens_at, exam.confirm_deadline_at
    return opens is not None and closes is not None and opens <= now < closes


def reachable_from(exam) -> datetime:
    """The first moment a code of this exam is accepted: the earlier of the confirmation
    period's start and the login opening."""
    opens = exam.confirm_opens_at
    return min(opens, exam.login_opens_at) if opens is not None else exam.login_opens_at


def next_opening(exam, now: datetime) -> datetime | None:
    """The next moment after `now` at which a code of this exam is accepted again (the
    confirmation period or the exam-day login, whichever comes first); None if neither."""
    later = [
        moment
        for moment in (exam.confirm_opens_at, exam.login_opens_at)
        if moment is not None and moment > now
    ]
    return min(later) if later else None
