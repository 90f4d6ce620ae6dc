"""Cheap change counters in Redis that the polled fragments compare before rendering anything.

A candidate's page shows more than their own row: broadcasts to the exam, a reply to their help
request, a published score. Whoever changes one of those bumps a counter here; the poll's ETag
is the candidate row's `version` plus these counters, so an unchanged page costs one Redis
round trip and no template.

While Redis is away (down, or hung and the breaker open: app/redis_conn.py) the counters are
unknown, so the ETag falls back to the database's own version of the same extras
(`EXTRAS_COLUMNS`: the newest broadcast, the help requests' count and reply/resolve times, the
result's score and publication, the entry cut-off), read in the quick poll's one SELECT
(app/day/poll.py) or, on the full path, in one more. A constant fallback would leave a page on
a score confirmed, a help reply or a broadcast for as long as Redis is away.
"""

import hashlib

import redis
from sqlalchemy import func, or_, select

from app import db
from app.day.pulse import wake
from app.models import Broadcast, Candidate, CandidateResult, Exam, HelpRequest
from app.redis_conn import get_redis, redis_known_bad

_candidate = Candidate.__table__
_broadcast, _help = Broadcast.__table__, HelpRequest.__table__
_result, _exam = CandidateResult.__table__, Exam.__table__


def _help_column(aggregate):
    return (
        select(aggregate)
        .where(_help.c.candidate_id == _candidate.c.id)
        .correlate(_candidate)
        .scalar_subquery()
    )


def _result_column(column):
    return (
        select(column)
        .where(_result.c.candidate_id == _candidate.c.id)
        .correlate(_candidate)
        .scalar_subquery()
    )


# Correlated to the candidate row of the statement they are put in: index lookups only.
EXTRAS_COLUMNS = [
    select(func.max(_broadcast.c.id))
    .where(
        _broadcast.c.exam_id == _candidate.c.exam_id,
        or_(_broadcast.c.panel_id.is_(None), _broadcast.c.panel_id == _candidate.c.panel_id),
    )
    .correlate(_candidate)
    .scalar_subquery(),
    _help_column(func.count(_help.c.id)),
    _help_column(func.max(_help.c.replied_at)),
    _help_column(func.max(_help.c.resolved_at)),
    _result_column(_result.c.final_score),
    _result_column(_result.c.published_at),
    _result_column(_result.c.seen_by_candidate_at),
    select(_exam.c.entry_cutoff_at)
    .where(_exam.c.id == _candidate.c.exam_id)
    .correlate(_candidate)
    .scalar_subquery(),
]


def _key_candidate(candidate_id: int) -> str:
    return f"ir:v:cand:{candidate_id}"


def _key_exam(exam_id: int) -> str:
    return f"ir:v:exam:{exam_id}"


def _key_panel(panel_id: int) -> str:
    return f"ir:v:panel:{panel_id}"


def bump_candidate(candidate) -> None:
    """Her page shows something new (a help reply, a score): its ETag moves, and the panel's
    pulse wakes it (app/day/pulse.py). `candidate`: a Candidate, or just its id (no wake)."""
    if isinstance(candidate, int):
        _incr(_key_candidate(candidate))
        return
    _incr(_key_candidate(candidate.id))
    wake(candidate.exam_id, {candidate.panel_id}, candidate.id)


def bump_exam(exam_id: int) -> None:
    _incr(_key_exam(exam_id))


def bump_panel(panel_id: int) -> None:
    """News every candidate page of the panel shows (a broadcast): each one's ETag moves and
    the pulse sends them all polling at once. Not for staff-only news (a score sheet, a move of
    one candidate): the consoles compare the rows themselves (app/day/consoles.py), and the one
    candidate concerned is woken by her own row's change or `bump_candidate`."""
    _incr(_key_panel(panel_id))


def candidate_etag(candidate) -> str:
    """The candidate fragment's ETag: their row, their extras, their exam's and panel's news."""
    keys = [_key_candidate(candidate.id), _key_exam(candidate.exam_id)]
    if candidate.panel_id is not None:
        keys.append(_key_panel(candidate.panel_id))
    values = None if redis_known_bad() else _mget(keys)
    if values is None:
        return f"c{candidate.version}.d{extras_version(candidate)}"
    return "c" + ".".join([str(candidate.version), *values])


def extras_version(candidate) -> str:
    """The database's version of the extras: from the quick poll's row if it read them."""
    extras = getattr(candidate, "extras", None)
    if extras is None:
        extras = tuple(
            db.session.execute(select(*EXTRAS_COLUMNS).where(_candidate.c.id == candidate.id)).one()
        )
    return hashlib.blake2b(repr(tuple(extras)).encode(), digest_size=6).hexdigest()


def _incr(key: str) -> None:
    try:
        get_redis().incr(key)
    except redis.RedisError:
        pass  # the page still updates: its ETag falls back to the database's version


def _mget(keys: list[str]) -> list[str] | None:
    try:
        values = get_redis().mget(keys)
        return [v.decode() if isinstance(v, bytes) else str(v or 0) for v in values]
    except redis.RedisError:
        return None
