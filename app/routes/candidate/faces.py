"""人脸核验 on the candidate's side: the notice she accepts (告知) and the stills her page sends.

A still never blocks the page: whatever is refused or fails, the page goes on and the assistant
decides (a failed comparison shows as 未能比对 on the console).
"""

from flask import flash, g, jsonify, request, url_for
from sqlalchemy.orm.exc import StaleDataError

from app import audit, db
from app.faces import stills
from app.refusals import Refused, message_of
from app.routes.candidate.access import go, refused, signed_in
from app.routes.candidate.blueprints import bp
from app.timeutil import utcnow

# Refused for when it comes (the page should stop sending): 409; for what was sent: 422; too
# soon: 429 (the page waits for its next turn).
STOP = frozenset({"face_still_not_now", "face_consent_missing"})
STATUS = {"face_still_too_soon": 429, **dict.fromkeys(STOP, 409)}


@bp.post("/me/face-consent")
@signed_in
def face_consent():
    candidate = g.candidate
    if not candidate.exam.face_checks:
        return go(url_for("candidate.home"))
    if request.form.get("accept") != "1":
        return refused(message_of("face_consent_needed"), 422)
    if candidate.face_consent_at is None:
        candidate.face_consent_at = utcnow()
        audit.record(
            "candidate.face_consent", candidate=candidate, purpose=candidate.exam.face_check_purpose
        )
        try:
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            return refused(message_of("changed_for_you"))
    flash("您已同意人脸核验告知。", "success")
    return go(url_for("candidate.home"))


@bp.post("/me/face-still")
def face_still():
    """One JPEG still from the page's own camera (multipart field `still`, CSRF token in the
    form). Answers JSON: 201 with the seconds until the next one, or the refusal."""
    candidate = g.get("candidate")
    if candidate is None:
        return jsonify(error="未登录", stop=True), 401
    upload = request.files.get("still")
    data = upload.stream.read(stills.STILL_MAX_BYTES + 1) if upload is not None else b""
    try:
        still = stills.accept_still(candidate, data, utcnow())
        db.session.commit()
    except Refused as refusal:
        db.session.rollback()
        status = STATUS.get(refusal.code, 422)
        return jsonify(error=refusal.message, code=refusal.code, stop=status == 409), status
    stills.enqueue_analysis(still.id)
    return jsonify(id=still.id, next=stills.every_seconds(still.purpose, candidate.exam)), 201
