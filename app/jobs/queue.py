"""The RQ queue and the app context every job runs in, both bound to the app's Redis.

RQ's Worker forks a work horse per job. A job must not lean on what the fork copied from its
parent: every job function runs inside `job_app_context()`, which pushes a fresh app context
(creating the app once per process when there is none, e.g. under `rq worker`) and makes the
database engine forget pooled connections that belong to another process.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from flask import Flask, current_app, has_app_context
from rq import Queue
from werkzeug.local import LocalProxy

from app import create_app, db
from app.redis_conn import get_redis

# The app of this process when a job runs outside any app context (created once, then reused).
_process_app: Flask | None = None


def get_queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=get_redis())


def app_object() -> Flask:
    """The app behind `current_app`, for code that keeps it past the current context.

    Flask types `current_app` as the app itself, but it is a LocalProxy that resolves to whichever
    context is pushed when it is used; the cast names what it really is.
    """
    return cast("LocalProxy[Flask]", current_app)._get_current_object()


def _app_for_job() -> Flask:
    global _process_app
    if has_app_context():
        return app_object()
    if _process_app is None:
        _process_app = create_app()
    return _process_app


def _forget_inherited_connections(app: Flask) -> None:
    """In a forked child, drop the parent's pooled DB connections without closing them.

    Closing would send a goodbye on a socket the parent still uses; `close=False` only forgets
    them, so this process opens its own.
    """
    pid = os.getpid()
    owner = app.extensions.get("db_engine_pid")
    if owner is not None and owner != pid:
        db.engine.dispose(close=False)
    app.extensions["db_engine_pid"] = pid


@contextmanager
def job_app_context() -> Iterator[Flask]:
    app = _app_for_job()
    with app.app_context():
        _forget_inherited_connections(app)
        try:
            yield app
        finally:
            db.session.remove()
