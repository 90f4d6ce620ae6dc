"""`GET /healthz` for load balancers and operators: is the database there, is Redis there."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from app import db
from app.redis_conn import get_redis

bp = Blueprint("health", __name__)


def _check_database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # any failure is the answer, not an error of this page
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}


def _check_redis() -> dict:
    try:
        get_redis().ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


@bp.get("/healthz")
def healthz():
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "degraded", **checks}
    return jsonify(body), 200 if healthy else 503
