"""Count the SQL statements of each request, and time it, for the benchmark only.

Enabled by BENCH_COUNT_SQL=1 (bench/wsgi.py is the only place that installs it): every
statement sent to the database while a request is answered adds one to that request's counter,
and the response carries it as `X-Bench-SQL-Queries`, with the request's time in the app
(milliseconds, from the WSGI call to its headers) as `X-Bench-Server-Ms`. It wraps the whole
WSGI app, so the poll's own lane (app/day/poll_lane.py) is counted as the Flask routes are.
Production never loads this module.
"""

import threading
import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

HEADER = "X-Bench-SQL-Queries"
SERVER_MS = "X-Bench-Server-Ms"
_request = threading.local()  # gunicorn's gthread: one request per thread at a time


def _count(conn, cursor, statement, parameters, context, executemany) -> None:
    if getattr(_request, "queries", None) is not None:
        _request.queries += 1


def install_sql_counter(app: Flask) -> None:
    # On the Engine class: Flask-SQLAlchemy creates its engine lazily, per app.
    if not event.contains(Engine, "before_cursor_execute", _count):
        event.listen(Engine, "before_cursor_execute", _count)
    inner = app.wsgi_app

    def counted(environ, start_response):
        _request.queries, started = 0, time.perf_counter()

        def with_counts(status, headers, exc_info=None):
            headers = [
                *headers,
                (HEADER, str(_request.queries)),
                (SERVER_MS, f"{(time.perf_counter() - started) * 1000:.1f}"),
            ]
            return start_response(status, headers, exc_info)

        try:
            return inner(environ, with_counts)
        finally:
            _request.queries = None

    app.wsgi_app = counted  # type: ignore[method-assign]
