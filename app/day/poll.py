"""What the candidate page's poll compares, and its quick answer.

On an exam day every candidate's page asks `/me/state` every 2 s (app/day/poll_interval.py) and nearly every answer is
"nothing changed" (304). Those answers are most of the site's load, so they come from one
plain SELECT of the few columns the poll reads, in autocommit (no BEGIN/ROLLBACK round trips),
without building ORM objects (`make bench` measures it).

The quick answer is only ever a 304 and is given only when the full path would give the same
304: the same session check, the same time rules (`journey.due_move`,
`journey.lot_assignment_due`), the same stage and the same ETag (`poll_etag`), computed by the
same functions on a `PollView` instead of a loaded `Candidate`. Anything else (a due time rule,
a ringing call, a lot to assign, a changed stage, a new ETag, a taken-over session) goes the
full way, which settles, writes and renders.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import aliased

from app import db, journey
from app.day.poll_interval import poll_seconds
from app.day.poll_versions import EXTRAS_COLUMNS, candidate_etag
from app.day.schedule import login_window_open, waiting_open
from app.journey import lot_assignment_due
from app.models import Candidate, Exam
from app.models.candidate import RINGING
from app.models.candidate import CandidateState as S
from app.quick_statement import QuickStatement
from app.redis_conn import redis_known_bad
from app.timeutil import ms

# The page a state is shown on. A ringing call is shown inside the waiting page (by the polled
# fragment), so an incoming call never reloads the page under the candidate.
STAGE_OF_STATE = {
    S.INVITED: "invited",
    S.CONFIRMED: "confirmed",
    S.DECLINED: "declined",
    S.DEBUG_WAITING: "debug_waiting",
    S.DEBUG_CALLED: "debug_waiting",
    S.DEBUGGING: "debugging",
    S.DEBUGGED: "debugged",
    S.WAITING: "waiting",
    S.INTERVIEW_CALLED: "waiting",
    S.INTERVIEWING: "interviewing",
    S.FINISHED: "finished",
    S.RESTING: "resting",
    S.RELEASED: "released",
    S.ABSENT: "absent",
    S.DISQUALIFIED: "disqualified",
}


def stage_of(candidate) -> str:
    return STAGE_OF_STATE[S(candidate.state)]


def page_stage(candidate) -> str:
    """The page a loaded candidate is shown: her state's, or "spot_check" while she is in a
    spot check or call-back she accepted (the state stays; the Call row says so). The quick
    poll's `stage_of` cannot see that, so a page in a spot check always goes the full way."""
    call = journey.spot_check_shown(candidate)
    if call is not None and call.outcome == "accepted":
        return "spot_check"
    return stage_of(candidate)


def interview_phase(candidate, now: datetime) -> str:
    if candidate.reading_started_at is None or candidate.timer_started_at is None:
        return "before"
    return "reading" if now < candidate.timer_started_at else "answering"


def poll_etag(candidate, stage: str, now: datetime, ahead: int | None) -> str:
    """Everything the fragment shows, as a cheap version: the candidate's counters, plus what
    changes with time alone (reading → answering, a second camera going quiet) or with others
    (`ahead`, how many wait before her: `ahead_in_queue`, or the quick view's own count).

    Of `ahead` only whether it is 0 (the fragment's sentence changes): the number itself goes
    with every answer, 304 included, in `X-Queue-Ahead` (`poll_headers`), and candidate.js
    writes it into the page. Each call from the front of a queue moves the number for every
    page behind, and a version of it sent each of them the whole fragment for one digit (most
    of the full answers at 3,000 candidates, `make bench`); the panel's queue counter, which
    every lot drawn and spot check bumps too, sent them even more."""
    parts = [candidate_etag(candidate), stage]
    if stage == "interviewing":
        parts.append(interview_phase(candidate, now)[0])
    if stage == "waiting" and ahead is not None:
        parts.append("a0" if ahead == 0 else "a")
    if candidate.exam.requires_second_camera and stage in ("interviewing", "resting"):
        parts.append("2" if journey.second_camera_connected(candidate, now) else "1")
    gate = schedule_gate(candidate.exam, stage, now)
    if gate:
        parts.append(gate)
    return ".".join(parts)


def ahead_in_queue(candidate, stage: str) -> int | None:
    """How many wait before a loaded candidate in her panel (the waiting page's number); None
    off the waiting page, while a call rings (the fragment shows the call instead) or without a
    lot. The quick view counts the same in its statement (`_AHEAD_IF_WAITING`)."""
    if stage != "waiting" or candidate.state != S.WAITING:
        return None
    if candidate.lot_number is None or candidate.panel_id is None:
        return None
    return db.session.scalar(
        select(func.count(Candidate.id)).where(
            Candidate.panel_id == candidate.panel_id,
            Candidate.state == S.WAITING,
            Candidate.lot_number < candidate.lot_number,
        )
    )


def schedule_gate(exam, stage: str, now: datetime) -> str:
    """The schedule's part of the ETag: the page's button changes when the clock alone opens
    the debug room (confirmed: the exam-day login) or the waiting room (debugged)."""
    if stage == "confirmed":
        return "l1" if login_window_open(exam, now) else "l0"
    if stage == "debugged" and exam.waiting_opens_minutes is not None:
        return "w1" if waiting_open(exam, now) else "w0"
    return ""


# --- the quick answer ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExamTimes:
    confirm_deadline_at: datetime | None
    entry_cutoff_at: datetime | None
    requires_second_camera: bool
    # The schedule's gates (schedule_gate): the debug room and the waiting room open by the clock.
    starts_at: datetime | None
    login_opens_at: datetime
    login_closes_at: datetime
    waiting_opens_minutes: int | None


@dataclass(frozen=True, slots=True)
class PollView:
    """The columns of a candidate (and of their exam, and how many wait before them) that the
    poll reads, read-only. Attribute names are the models' own, so the functions above take
    either."""

    id: int
    session_nonce: str | None
    state: str
    version: int
    exam_id: int
    panel_id: int | None
    lot_number: int | None
    deadline_at: datetime | None
    reading_started_at: datetime | None
    timer_started_at: datetime | None
    second_camera_seen_at: datetime | None
    reinstated_at: datetime | None  # the cut-off spares the reinstated (journey.due_move)
    exam: ExamTimes
    # How many wait before her in her panel (None without a lot): the interval's `ahead`.
    ahead: int | None = None
    # The database's version of what else the page shows, read only while Redis is away
    # (app/day/poll_versions.py: the ETag's fallback).
    extras: tuple | None = None


_CANDIDATE_COLUMNS = [
    c.name
    for c in PollView.__dataclass_fields__.values()
    if c.name not in ("exam", "ahead", "extras")
]
_EXAM_COLUMNS = list(ExamTimes.__dataclass_fields__)
_N = len(_CANDIDATE_COLUMNS)
_PANEL_ID = _CANDIDATE_COLUMNS.index("panel_id")
_LOT = _CANDIDATE_COLUMNS.index("lot_number")

# Table columns, not ORM attributes: a Core statement, compiled once and cached.
_candidate, _exam = Candidate.__table__, Exam.__table__
_before = aliased(_candidate)
# As `ahead_in_queue` counts them; NULL lot: NULL comparison, no rows.
_AHEAD = (
    select(func.count(_before.c.id))
    .where(
        _before.c.panel_id == _candidate.c.panel_id,
        _before.c.state == S.WAITING,
        _before.c.lot_number < _candidate.c.lot_number,
    )
    .correlate(_candidate)
    .scalar_subquery()
)
# Counted only for the waiting: the other stages' polls (most of them) skip the subquery.
_AHEAD_IF_WAITING = case((_candidate.c.state == S.WAITING, _AHEAD), else_=None)
_STATEMENT = (
    select(
        *(_candidate.c[name] for name in _CANDIDATE_COLUMNS),
        *(_exam.c[name] for name in _EXAM_COLUMNS),
        _AHEAD_IF_WAITING,
    )
    .select_from(_candidate.join(_exam, _exam.c.id == _candidate.c.exam_id))
    .where(_candidate.c.id == bindparam("candidate_id"))
)
# While Redis is away: the same row plus the extras' database version, still one statement.
_STATEMENT_WITH_EXTRAS = _STATEMENT.add_columns(*EXTRAS_COLUMNS)
_AHEAD_AT = _N + len(_EXAM_COLUMNS)
_QUICK, _QUICK_WITH_EXTRAS = QuickStatement(_STATEMENT), QuickStatement(_STATEMENT_WITH_EXTRAS)


def read_poll_view(candidate_id: int, with_extras: bool = False) -> PollView | None:
    """One statement, in autocommit: nothing is written, and a single SELECT is consistent."""
    quick = _QUICK_WITH_EXTRAS if with_extras else _QUICK
    row = quick.one_or_none(db.engine, {"candidate_id": candidate_id})
    if row is None:
        return None
    exam = ExamTimes(*row[_N:_AHEAD_AT])
    ahead = row[_AHEAD_AT] if row[_LOT] is not None and row[_PANEL_ID] is not None else None
    extras = tuple(row[_AHEAD_AT + 1 :]) if with_extras else None
    # mypy cannot tell that the unpacked slice stops before exam and extras.
    return PollView(*row[:_N], exam=exam, ahead=ahead, extras=extras)  # type: ignore[misc]


class QuickAnswer(NamedTuple):
    etag: str
    seconds: int | None  # the next poll's interval (`poll_interval`)
    ahead: int | None  # `X-Queue-Ahead`


def quick_not_modified(
    candidate_id, nonce, asked_stage: str | None, if_none_match, now: datetime
) -> str | None:
    """The ETag to answer 304 with, when the full path would answer exactly that; else None."""
    answer = quick_answer(candidate_id, nonce, asked_stage, if_none_match, now)
    return answer.etag if answer is not None else None


def quick_answer(
    candidate_id, nonce, asked_stage: str | None, if_none_match, now: datetime
) -> QuickAnswer | None:
    """The 304's ETag, interval and count ahead, from the same one statement; None when the
    full path must answer."""
    if candidate_id is None or nonce is None:
        return None
    # Redis away: the ETag's fallback needs the extras (still the one statement), and there is
    # no pulse to wake a slow page.
    redis_away = redis_known_bad()
    view = (
        read_poll_view(candidate_id, with_extras=True)
        if redis_away
        else read_poll_view(candidate_id)
    )
    # A ringing call's lapse depends on the call row, which the view does not read: those few
    # seconds go the full way.
    if view is None or view.session_nonce != nonce or view.state in RINGING:
        return None
    if journey.due_move(view, view.exam, now) is not None or lot_assignment_due(view, now):
        return None
    stage = stage_of(view)
    if asked_stage != stage:
        return None
    etag = poll_etag(view, stage, now, view.ahead)
    if not if_none_match.contains(etag):
        return None
    # The view does not read the score: a released page keeps its last full answer's interval.
    seconds = poll_seconds(
        stage, view.exam, now, score_shown=None, ahead=view.ahead, pulse_ok=not redis_away
    )
    return QuickAnswer(etag, seconds, view.ahead)  # counted for the waiting only


def poll_header_list(now: datetime, seconds: int | None = None, ahead: int | None = None):
    """The poll's own headers, on every answer of it (the route's and app/day/poll_lane.py's)."""
    headers = []
    # When to ask next (app/day/poll_interval.py), on 304s too: a 304 carries no body.
    if seconds is not None:
        headers.append(("X-Poll-Interval", str(seconds)))
    # How many wait before her (the waiting page's number, which the ETag leaves out).
    if ahead is not None:
        headers.append(("X-Queue-Ahead", str(ahead)))
    # The countdowns re-sync to this on every poll, 304 included: the browser's clock is
    # never trusted, only its elapsed time between two polls.
    headers.append(("X-Server-Now-Ms", str(ms(now))))
    headers.append(("Cache-Control", "no-store"))
    return headers


def poll_headers(response, now: datetime, seconds: int | None = None, ahead: int | None = None):
    """`poll_header_list` on the route's answer, 200 or 304."""
    for name, value in poll_header_list(now, seconds, ahead):
        response.headers[name] = value
    return response
