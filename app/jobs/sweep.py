"""The periodic sweep: apply due time rules to everyone, including those not looking.

The pages settle a candidate lazily on every request (`journey.settle`); this job does the same
once a minute for the whole of today's exams, so that the entry cut-off marks absentees (缺考),
lots are assigned to whoever has not drawn, lapsed calls return to the queue and a countdown at
zero ends the interview even when nobody has the page open (the staff consoles then show the
truth without someone having to look at each candidate).

Scheduling without rq-scheduler: each run first enqueues the next one with `enqueue_in` (RQ's
built-in scheduler, which `flask worker` starts with `with_scheduler=True`). A Redis key per
minute (SET NX) makes sure there is one chain, however many workers start it or however often
RQ re-delivers a job (at least once); the worker calls `ensure_scheduled` when it starts.
Each scheduling also sets a marker key (CHAIN_KEY, expiring after three intervals); the running
worker looks for it every half minute (`restore_chain`, app/jobs/worker.py), so a chain lost to
a Redis restarted empty (or to anything else) is scheduled again within a minute, without a
worker restart. Every step is idempotent: `settle` is a no-op when nothing is due, and a move
already made is refused by its compare-and-set.
"""

from datetime import datetime, timedelta

import redis
from rq import Queue
from sqlalchemy import select

from app import db, journey
from app.faces.signals import flag_stopped_stills
from app.jobs.queue import get_queue, job_app_context
from app.models import Exam
from app.timeutil import utcnow

INTERVAL_SECONDS = 60
CHAIN_KEY = "ir:sweep:chain"
# An exam is swept from its login window's opening until a while after it closes (an interview
# that started just before the close still has its countdown to run out).
AFTER_CLOSE = timedelta(hours=3)


def _exam_ids(now: datetime) -> list[int]:
    # Filtered in Python: interval arithmetic differs between PostgreSQL and SQLite, and there
    # are a handful of exams, not thousands.
    rows = db.session.execute(select(Exam.id, Exam.login_opens_at, Exam.login_closes_at)).all()
    return [exam_id for exam_id, opens, closes in rows if opens <= now <= closes + AFTER_CLOSE]


def sweep(now: datetime | None = None) -> dict[int, int]:
    """Settle every candidate of today's exams; returns {exam_id: candidates changed}."""
    now = now or utcnow()
    changed = {}
    for exam_id in _exam_ids(now):
        changed[exam_id] = journey.settle_exam(exam_id, now)
        # Stills that stopped arriving are a signal even when no console is looking.
        flag_stopped_stills(exam_id, now)
    return changed


def _slot_key(run_at: datetime) -> str:
    return f"ir:sweep:slot:{int(run_at.timestamp()) // INTERVAL_SECONDS}"


def ensure_scheduled(queue: Queue, now: datetime | None = None) -> bool:
    """Schedule the next sweep unless someone already has; True if this call scheduled it."""
    now = now or utcnow()
    run_at = now + timedelta(seconds=INTERVAL_SECONDS)
    try:
        claimed = queue.connection.set(_slot_key(run_at), 1, nx=True, ex=INTERVAL_SECONDS * 3)
        if not claimed:
            return False
        queue.enqueue_in(
            timedelta(seconds=INTERVAL_SECONDS),
            run_sweep,
            job_id=f"ir-sweep-{int(run_at.timestamp()) // INTERVAL_SECONDS}",
            result_ttl=INTERVAL_SECONDS,
            failure_ttl=24 * 3600,
        )
        queue.connection.set(CHAIN_KEY, run_at.isoformat(), ex=INTERVAL_SECONDS * 3)
        return True
    except redis.RedisError:
        return False  # the worker tries again within a minute; the pages settle lazily meanwhile


def restore_chain(queue: Queue, now: datetime | None = None) -> bool:
    """Schedule the sweep again if its chain is gone (no marker); True if this call did."""
    try:
        if queue.connection.exists(CHAIN_KEY):
            return False
    except redis.RedisError:
        return False
    return ensure_scheduled(queue, now)


def run_sweep(now: datetime | None = None) -> dict[int, int]:
    """The RQ job: schedule the next run first (a crash below must not end the chain), sweep."""
    with job_app_context():
        now = now or utcnow()
        ensure_scheduled(get_queue(), now)
        return sweep(now)
