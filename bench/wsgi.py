"""The production app (`wsgi:app`) plus, with BENCH_COUNT_SQL=1, the per-request SQL counter and
the server's own time per request (`X-Bench-Server-Ms`)."""

import os

from wsgi import app

if os.environ.get("BENCH_COUNT_SQL") == "1":
    from bench.sql_counter import install_sql_counter

    install_sql_counter(app)
