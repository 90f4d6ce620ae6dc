"""`flask worker`: the RQ worker inside the app, with the scheduler and the periodic sweep.

Above the jobs it runs (app/jobs/sweep.py, app/jobs/recordings.py) and the rules it starts with
(app/recordings/pulls.py): those import app/jobs/queue.py, never this module.
"""

import os

from rq import Worker

from app import db
from app.jobs.queue import app_object, get_queue
from app.jobs.sweep import ensure_scheduled
from app.recordings.pulls import recover_recordings
from app.recordings.storage import clean_partials

# Look for abandoned jobs (a worker killed mid-job) every minute rather than every ten (an idle
# worker still only looks when its blocking dequeue returns, every few minutes).
MAINTENANCE_INTERVAL = 60


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
    queue = get_queue()
    # The periodic time-rule sweep (entry cut-off, lots, lapsed calls): see app/jobs/sweep.py.
    ensure_scheduled(queue)
    worker = Worker([queue], connection=queue.connection, maintenance_interval=MAINTENANCE_INTERVAL)
    worker.work(with_scheduler=True, burst=burst)
