"""疑似切屏: the page's visibility and blur beacon, logged for the exam office."""

import redis
from flask import abort, g, request

from app import audit, db
from app.redis_conn import get_redis
from app.routes.candidate.blueprints import bp
from app.timeutil import utcnow

VISIBILITY_KINDS = {"hidden": "页面隐藏", "blur": "窗口失去焦点"}
VISIBILITY_THROTTLE_SECONDS = 5


@bp.post("/me/visibility")
def visibility():
    """疑似切屏: a beacon from the page (sendBeacon: no headers, so the CSRF token is a field).

    Only logged: it changes no state and no version, so no page re-renders because of it.
    """
    kind = request.form.get("kind")
    if kind not in VISIBILITY_KINDS:
        abort(400)
    candidate = g.get("candidate")
    if candidate is None:
        return "", 204
    if _first_report_in_a_while(candidate.id, kind):
        audit.record(
            "candidate.suspected_switch",
            candidate=candidate,
            signal=kind,
            label="疑似切屏",
            detail=VISIBILITY_KINDS[kind],
            state=candidate.state,
        )
        db.session.commit()
    return "", 204


def _first_report_in_a_while(candidate_id: int, kind: str) -> bool:
    """At most one report per kind and candidate per few-second slot of server time, whatever
    the page sends (slots of the app's clock, not Redis expiry, so tests can move time)."""
    slot = int(utcnow().timestamp()) // VISIBILITY_THROTTLE_SECONDS
    try:
        return bool(
            get_redis().set(
                f"ir:vis:{candidate_id}:{kind}:{slot}",
                1,
                nx=True,
                ex=VISIBILITY_THROTTLE_SECONDS * 2,
            )
        )
    except redis.RedisError:
        return True
