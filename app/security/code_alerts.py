"""Watching invitation-code failures, so that staff learn when someone is guessing.

Flask-Limiter (app/security/limits.py) stops a guesser; this module only counts, so that the HR
overview can raise an alert when failures spike. Counts live in Redis in one-minute buckets
(shared by every worker and node, expiring by themselves):

- `ir:codefail:all:<minute>`       every refused code on the site;
- `ir:codefail:exam:<id>:<minute>` refused codes that belong to that exam (tried outside its
                                   login window).

A wrong guess matches no code, so it belongs to no exam; but it is tried against every live code
at once, so for an exam whose login window is open, `recent_failures(exam_id)` counts the
site's unattributed failures too. If Redis is down the counts read as 0 (the limiter then falls
back to per-process memory, see app/security/limits.py): an alert is lost, never a page.
"""

from datetime import datetime

import redis
from flask import current_app

from app import db
from app.models import Exam
from app.redis_conn import get_redis
from app.timeutil import utcnow

BUCKET_TTL_SECONDS = 2 * 60 * 60
DEFAULT_WINDOW_MINUTES = 5
DEFAULT_ALERT_THRESHOLD = 30  # failures in the window; override with CODE_FAILURE_ALERT_THRESHOLD


def _minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def _key_all(minute: int) -> str:
    return f"ir:codefail:all:{minute}"


def _key_unmatched(minute: int) -> str:
    return f"ir:codefail:none:{minute}"


def _key_exam(exam_id: int, minute: int) -> str:
    return f"ir:codefail:exam:{exam_id}:{minute}"


def record_failure(exam_id: int | None = None, now: datetime | None = None) -> None:
    """Count one refused code (exam_id: the exam the code belongs to, if it matched one)."""
    minute = _minute(now or utcnow())
    keys = [_key_all(minute), _key_exam(exam_id, minute) if exam_id else _key_unmatched(minute)]
    try:
        pipe = get_redis().pipeline()
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, BUCKET_TTL_SECONDS)
        pipe.execute()
    except redis.RedisError:
        pass


def _sum(keys: list[str]) -> int:
    try:
        return sum(int(v) for v in get_redis().mget(keys) if v is not None)
    except redis.RedisError:
        return 0


def recent_failures(
    exam_id: int | None = None, minutes: int = DEFAULT_WINDOW_MINUTES, now: datetime | None = None
) -> int:
    """Refused codes in the last `minutes` minutes (the current minute included).

    exam_id=None: the whole site. With an exam: its own codes tried outside the window, plus the
    unattributed guesses if its login window is open now (they were aimed at its codes too).
    """
    now = now or utcnow()
    last = _minute(now)
    minutes_range = range(last - max(1, minutes) + 1, last + 1)
    if exam_id is None:
        return _sum([_key_all(m) for m in minutes_range])
    keys = [_key_exam(exam_id, m) for m in minutes_range]
    exam = db.session.get(Exam, exam_id)
    if exam is not None and exam.login_open_at(now):
        keys += [_key_unmatched(m) for m in minutes_range]
    return _sum(keys)


def alert_threshold() -> int:
    return int(current_app.config.get("CODE_FAILURE_ALERT_THRESHOLD", DEFAULT_ALERT_THRESHOLD))


def failures_spiking(exam_id: int | None = None, now: datetime | None = None) -> bool:
    """True when the HR overview should show the code-guessing alert."""
    return recent_failures(exam_id, now=now) >= alert_threshold()


def first_in_a_while(address: str, now: datetime | None = None, seconds: int = 60) -> bool:
    """Once per address and minute: so that a flood of blocked requests writes one audit event."""
    moment = now or utcnow()
    try:
        return bool(
            get_redis().set(
                f"ir:codelimited:{address}:{_minute(moment)}", 1, nx=True, ex=seconds + 60
            )
        )
    except redis.RedisError:
        return False
