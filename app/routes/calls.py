"""What the embedded Jitsi calls report from the browser: joined, left, device errors, recording."""

from flask import Blueprint, abort, g, request
from flask_login import current_user

from app import audit, db

bp = Blueprint("calls", __name__, url_prefix="/calls")

# The IFrame API events worth keeping (https://jitsi.github.io/handbook/docs/dev-guide/dev-guide-iframe).
EVENTS = {
    "videoConferenceJoined",
    "videoConferenceLeft",
    "participantJoined",
    "participantLeft",
    "cameraError",
    "micError",
    "recordingStatusChanged",
    "readyToClose",
    "errorOccurred",
}
KINDS = {"debug", "interview", "rest", "second_camera"}


@bp.post("/events")
def event():
    candidate = g.get("candidate")
    staff = current_user if current_user.is_authenticated else None
    if candidate is None and staff is None:
        abort(403)
    payload = request.get_json(silent=True) or {}
    name, kind = payload.get("event"), payload.get("kind")
    if name not in EVENTS or kind not in KINDS:
        abort(400)
    detail = payload.get("detail") if isinstance(payload.get("detail"), dict) else {}
    detail = {str(k)[:40]: str(v)[:200] for k, v in list(detail.items())[:10]}
    audit.record(
        f"call.{name}",
        candidate=candidate,
        room=str(payload.get("room", ""))[:200],
        call_kind=kind,
        **detail,
    )
    db.session.commit()
    return "", 204
