"""Count the SQL statements of each request, and time it, for the benchmark only.

Enabled by BENCH_COUNT_SQL=1 (bench/wsgi.py is the only place that installs it): every
statement sent to the database inside a request adds one to a per-request counter, and the
response carries it as `X-Bench-SQL-Queries`, with the request's time in the app (first
before_request to the last after_request, milliseconds) as `X-Bench-Server-Ms`. Production never
loads this module.
"""

import time

from flask import Flask, g, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

HEADER = "X-Bench-SQL-Queries"
SERVER_MS = "X-Bench-Server-Ms"


def _count(conn, cursor, statement, parameters, context, executemany) -> None:
    if has_app_context():
        g._bench_sql_queries = g.get("_bench_sql_queries", 0) + 1


def install_sql_counter(app: Flask) -> None:
    # On the Engine class: Flask-SQLAlchemy creates its engine lazily, per app.
    if not event.contains(Engine, "before_cursor_execute", _count):
        event.listen(Engine, "before_cursor_execute", _count)

    # First of the before_request functions, and (Flask runs them in reverse) last of the
    # after_request ones: the whole of the app's own time.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _report)


def _start() -> None:
    g._bench_started = time.perf_counter()


def _report(response):
    response.headers[HEADER] = str(g.get("_bench_sql_queries", 0))
    started = g.get("_bench_started")
    if started is not None:
        response.headers[SERVER_MS] = f"{(time.perf_counter() - started) * 1000:.1f}"
    return response
