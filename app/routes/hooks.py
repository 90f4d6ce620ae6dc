"""`POST /hooks/jibri`: the signed notice jitsi/jibri/finalize.sh sends when a recording ends.

403 for a missing or wrong `X-Jibri-Signature` (nothing recorded); 400 for a signed body that is
not a notice; 202 once every file has a row and a pull job (503 if Redis refused the job: the
script retries, and the replay enqueues what is still missing). See app/recordings/notice.py.
"""

from flask import Blueprint, current_app, jsonify, request
from redis.exceptions import RedisError

from app import csrf
from app.models import RecordingStatus
from app.recordings.notice import (
    SIGNATURE_HEADER,
    NoticeError,
    parse_notice,
    take_notice,
    verify_signature,
)
from app.recordings.pulls import ensure_pull_enqueued

bp = Blueprint("hooks", __name__, url_prefix="/hooks")


@bp.post("/jibri")
@csrf.exempt
def jibri():
    body = request.get_data(cache=False)
    secret = current_app.config.get("JIBRI_WEBHOOK_SECRET")
    if not verify_signature(body, request.headers.get(SIGNATURE_HEADER), secret):
        current_app.logger.warning(
            "jibri hook: refused a notice with a missing or wrong signature%s",
            "" if secret else " (JIBRI_WEBHOOK_SECRET is not set)",
        )
        return jsonify(error="missing or wrong X-Jibri-Signature"), 403
    try:
        notice = parse_notice(body)
    except NoticeError as exc:
        return jsonify(error=str(exc)), 400
    created, existing = take_notice(notice)
    enqueued = []
    try:
        # A failed file is retried deliberately (page or CLI), not by a repeated notice.
        unfinished = [
            r for r in existing if r.status in (RecordingStatus.WAITING, RecordingStatus.PULLING)
        ]
        for recording in created + unfinished:
            if ensure_pull_enqueued(recording):
                enqueued.append(recording.id)
    except RedisError as exc:
        current_app.logger.error("jibri hook: could not enqueue pulls: %s", exc)
        return jsonify(error="queue unavailable, try again"), 503
    return jsonify(
        accepted=[r.id for r in created],
        already_known=[r.id for r in existing],
        enqueued=enqueued,
        room=notice.room,
    ), 202
