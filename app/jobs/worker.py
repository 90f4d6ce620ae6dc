"""`flask worker`: the RQ worker inside the app, with the scheduler and the periodic sweep.

Above the jobs it runs (app/jobs/sweep.py, app/jobs/recordings.py) and the rules it starts with
(app/recordings/pulls.py): those import app/jobs/queue.py, never this module.

Redis restarted empty (or flushed) loses the sweep's chain and every queued or scheduled pull
(a recording waiting for its next retry among them). The worker does not wait for a restart to
notice: every RESTORE_INTERVAL seconds its own loop (`AppWorker.run_maintenance_tasks`) puts
the sweep back if its marker is gone and re-enqueues every unfinished recording whose job is
gone (`restore_lost_jobs`). Its blocking dequeue returns every DEQUEUE_SECONDS, so even an idle
worker looks at least twice a minute.
"""

import os

import redis
from rq import Worker

from app import db
from app.faces import engine as face_engine
from app.jobs.queue import app_object, get_queue
from app.jobs.sweep import ensure_scheduled, restore_chain
from app.recordings.pulls import recover_recordings
from app.recordings.storage import clean_partials
from app.redis_conn import redis_url

# Look for abandoned jobs (a worker killed mid-job) and for jobs lost with Redis's data every
# half minute rather than every ten.
MAINTENANCE_INTERVAL = 30
RESTORE_INTERVAL = MAINTENANCE_INTERVAL
# RQ blocks in its dequeue for worker_ttl - 15 seconds: 30 s, so an idle worker's loop turns.
DEQUEUE_SECONDS = 30
WORKER_TTL = DEQUEUE_SECONDS + 15
# After Redis went away, reconnect at least this often (RQ's default backs off to 60 s).
MAX_RECONNECT_WAIT = 10.0


def restore_lost_jobs() -> dict[str, int]:
    """Put back what an emptied Redis lost: the sweep's chain, the pending recordings' pulls."""
    queue = get_queue()
    restored = {"sweep": int(restore_chain(queue))}
    try:
        restored["recordings"] = recover_recordings()
    except redis.RedisError:
        restored["recordings"] = 0  # still away: the next turn of the loop tries again
    finally:
        db.session.remove()  # no transaction left open between turns (nor across a fork)
    return restored


class AppWorker(Worker):
    max_connection_wait_time = MAX_RECONNECT_WAIT

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        try:
            restored = restore_lost_jobs()
        except Exception:  # e.g. the database away: never the reason a worker stops
            app_object().logger.warning("worker: restoring lost jobs failed", exc_info=True)
            db.session.remove()
            return
        if any(restored.values()):
            app_object().logger.warning(
                "worker: Redis had lost jobs; sweep rescheduled: %s, recordings re-enqueued: %d",
                bool(restored["sweep"]),
                restored["recordings"],
            )


def worker_connection() -> redis.Redis:
    """The worker's own client: RQ gives it a socket timeout longer than its blocking dequeue,
    which must not leak to the app's client (short timeouts, breaker) that the jobs use."""
    return redis.Redis.from_url(redis_url(app_object()), socket_connect_timeout=2)


def run_worker(burst: bool = False) -> None:
    """Work inside the current app (its config, database and Redis), with the scheduler.

    Before working: re-enqueue recordings whose job was lost and clear stale partial downloads.
    Then the parent gives its database connections back, so no connection crosses a fork.
    """
    app = app_object()
    recovered = recover_recordings()
    cleaned = clean_partials()
    if recovered or cleaned:
        app.logger.warning(
            "worker start: %d recordings re-enqueued, %d stale partial files removed",
            recovered,
            cleaned,
        )
    db.session.remove()
    db.engine.dispose()
    app.extensions["db_engine_pid"] = os.getpid()
    # dlib's models (30 MB) once, here: every work horse RQ forks inherits them.
    face_engine.models()
    queue = get_queue()
    # The periodic time-rule sweep (entry cut-off, lots, lapsed calls): see app/jobs/sweep.py.
    ensure_scheduled(queue)
    worker = AppWorker(
        [queue.name],
        connection=worker_connection(),
        maintenance_interval=MAINTENANCE_INTERVAL,
        worker_ttl=WORKER_TTL,
    )
    worker.work(with_scheduler=True, burst=burst)
