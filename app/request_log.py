"""Logs an operator can follow on exam day: one line per request, with a request id.

`LOG_FORMAT=json` writes JSON lines (python-json-logger), anything else plain text; `LOG_LEVEL`
(default INFO) sets the level. Every line logged while a request is served carries its request
id, and the staff or candidate id once known. The request id is nginx's `X-Request-ID` when it
sends a sane one (deploy/nginx sets `$request_id`), a new one otherwise, and goes back in the
response's `X-Request-ID`, so that a candidate's screenshot of an error page leads to its lines.

Thousands of pages poll every few seconds and almost every poll answers 304 (nothing changed):
those lines are DEBUG, so the terminal and the log show what happened, not the polling. This
replaces gunicorn's access log, which printed every poll (it is off unless GUNICORN_ACCESS_LOG).
"""

import logging
import os
import re
import sys
import time
import uuid
from typing import IO

from flask import Flask, g, has_request_context, request, session

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(request_id)s staff=%(staff_id)s"
    " candidate=%(candidate_id)s] %(message)s"
)
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
_HANDLER_NAME = "interview-room"

log = logging.getLogger("app.requests")


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test runner swaps and closes its own)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


class RequestContext(logging.Filter):
    """Adds request_id, staff_id and candidate_id to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A line logged outside Flask's request context may name them itself (the poll's lane).
        for name in ("request_id", "staff_id", "candidate_id"):
            if not hasattr(record, name):
                setattr(record, name, "-")
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            # The user flask_login already loaded, if any: a log line never queries the database.
            user = g.get("_login_user")
            if user is not None and getattr(user, "is_authenticated", False):
                record.staff_id = user.id
            record.candidate_id = session.get("candidate_id", "-")
        return True


def configure_logging(
    fmt: str | None = None, level: str | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """One handler on the root logger (replaced, never doubled, when called again)."""
    fmt = (fmt if fmt is not None else os.environ.get("LOG_FORMAT", "text")).lower()
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestContext())
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS,
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                timestamp=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Alembic's fileConfig (a migration in this process) disables loggers made before it.
    log.disabled = False
    root.setLevel((level or os.environ.get("LOG_LEVEL") or "INFO").upper())
    return handler


def log_answer(
    method: str, path: str, endpoint: str | None, status: int, took_ms: float, **names
) -> None:
    """The one line per answered request: at DEBUG for an unchanged poll (304), INFO otherwise.
    `names` (request_id, candidate_id) for a line logged outside Flask's request context."""
    level = logging.DEBUG if status == 304 else logging.INFO
    if log.isEnabledFor(level):
        log.log(
            level,
            "%s %s %s %.1f ms",
            method,
            path,
            status,
            took_ms,
            extra={
                "method": method,
                "path": path,
                "endpoint": endpoint,
                "status": status,
                "duration_ms": round(took_ms, 1),
                **names,
            },
        )


def sane_request_id(incoming: str) -> str | None:
    """The proxy's request id, if it looks like one (it goes into every log line)."""
    return incoming if _SANE_ID.fullmatch(incoming) else None


def init_request_log(app: Flask) -> None:
    if not app.testing:
        configure_logging()

    @app.before_request
    def _start():
        g.request_id = sane_request_id(request.headers.get(REQUEST_ID_HEADER, "")) or (
            uuid.uuid4().hex
        )
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id")
        if request_id is None:  # a request that failed before _start (never in practice)
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        took_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        log_answer(request.method, request.path, request.endpoint, response.status_code, took_ms)
        return response
