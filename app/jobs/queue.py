"""The RQ queue and worker, both bound to the app's Redis."""

from flask import current_app
from rq import Queue, Worker

from app.redis_conn import get_redis


def get_queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=get_redis())


def run_worker(burst: bool = False) -> None:
    """Work inside the current app context: jobs use the app's database session and config."""
    queue = get_queue()
    worker = Worker([queue], connection=queue.connection)
    worker.work(with_scheduler=True, burst=burst)
