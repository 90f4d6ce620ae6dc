"""`GET /healthz` for monitoring: is the database there, is Redis there (503 if either is away).
`GET /readyz` for load balancers: can this node serve (503 only if its database is away).
Both name the version this node runs (app/__init__.py), for a rolling upgrade.

Both say what this process's Redis breaker knows (app/redis_conn.py): `redis.state` is "ok",
"hung" (it accepts but does not answer: a timeout) or "down" (refused, reset, loading).
A hung Redis does not make /readyz 503 either: once the breaker is open it costs a request
nothing, the pages fall back as they do with Redis down, and Redis is shared, so a 503 would
take every node out of the pool at once for a fault no node can fix.

Also the page every request gets while the database is away (a PostgreSQL restart or failover):
503 with a sentence to retry, instead of a 500 and a stack trace in the log for each of a
thousand polls. Nothing is lost: the request's transaction is rolled back, and the pool
(app/db_ping.py) replaces the dead connections as soon as the database answers again.
Redis being away needs no page: every use of it falls back (see app/day/poll_versions.py,
app/security/limits.py, app/security/code_alerts.py) and only /healthz says so.
"""

from flask import Blueprint, current_app, g, jsonify, render_template
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError

from app import __version__, db, htmx, login
from app.redis_conn import breaker_of, get_redis

bp = Blueprint("health", __name__)


def _check_database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # any failure is the answer, not an error of this page
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}


def _check_redis() -> dict:
    """A PING through the breaker: while it is open this answers at once, from what it saw."""
    client = get_redis()
    try:
        client.ping()
        result: dict = {"ok": True}
    except Exception as exc:
        result = {"ok": False, "error": type(exc).__name__}
    return {**result, **_breaker_report(client)}


def _breaker_report(client) -> dict:
    breaker = breaker_of(client)
    report = breaker.report() if breaker is not None else {"state": "ok", "breaker": "closed"}
    report.pop("error", None)  # the check's own error (or the breaker's refusal) is shown
    return report


@bp.get("/healthz")
def healthz():
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(check["ok"] for check in checks.values())
    # The version tells a rolling upgrade which nodes already run the new release.
    body = {"status": "ok" if healthy else "degraded", **checks, "version": __version__}
    return jsonify(body), 200 if healthy else 503


@bp.get("/readyz")
def readyz():
    """For a load balancer's health check: can this node serve? Only its database decides.
    Redis is shared by every node and the pages work without it, so a Redis outage must not
    take every node out of the pool at once (that is /healthz's 503, for monitoring)."""
    database = _check_database()
    # Redis as this process last saw it, without a round trip: reported, never a 503.
    client = get_redis()
    breaker = breaker_of(client)
    redis_seen = {"ok": breaker is None or breaker.state == "closed", **_breaker_report(client)}
    body = {
        "status": "ready" if database["ok"] else "not ready",
        "database": database,
        "redis": redis_seen,
        "version": __version__,
    }
    return jsonify(body), 200 if database["ok"] else 503


# Candidates always read the Chinese (app/i18n.py); staff who chose English read the English.
DATABASE_AWAY = _l(
    "The system is busy: wait a few seconds and reload. Nothing you entered is lost."
)
RETRY_AFTER_SECONDS = 5


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(InterfaceError)
def database_away(error):
    current_app.logger.warning("database unavailable: %s", type(error.orig or error).__name__)
    try:
        db.session.rollback()
    except Exception:  # the connection is already gone; the pool discards it
        pass
    # Flask-Login's template context would try to load the signed-in user again (from the
    # database that just failed): this page is shown as to a visitor.
    g._login_user = login.anonymous_user()
    if htmx:
        # htmx swaps nothing on a 5xx; the next poll simply tries again.
        body = f'<div class="flash flash-error" role="alert">{escape(str(DATABASE_AWAY))}</div>'
        response = current_app.make_response((body, 503))
    else:
        response = current_app.make_response(
            (render_template("errors/error.html", code=503, message=str(DATABASE_AWAY)), 503)
        )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response
