"""Count the SQL statements of each request, for the benchmark only.

Enabled by BENCH_COUNT_SQL=1 (bench/wsgi.py is the only place that installs it): every
statement sent to the database inside a request adds one to a per-request counter, and the
response carries it as `X-Bench-SQL-Queries`. Production never loads this module.
"""

from flask import Flask, g, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

HEADER = "X-Bench-SQL-Queries"


def _count(conn, cursor, statement, parameters, context, executemany) -> None:
    if has_app_context():
        g._bench_sql_queries = g.get("_bench_sql_queries", 0) + 1


def install_sql_counter(app: Flask) -> None:
    # On the Engine class: Flask-SQLAlchemy creates its engine lazily, per app.
    if not event.contains(Engine, "before_cursor_execute", _count):
        event.listen(Engine, "before_cursor_execute", _count)

    @app.after_request
    def _report(response):
        response.headers[HEADER] = str(g.get("_bench_sql_queries", 0))
        return response
