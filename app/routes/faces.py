"""A candidate's face still (人脸核验), for staff of her exam (app/faces/access.py)."""

from flask import Blueprint, abort, send_file
from flask_login import current_user

from app import db
from app.decorators import guard_blueprint
from app.faces.access import may_see_still
from app.faces.stills import still_file
from app.models import Candidate, FaceStill, Role

bp = Blueprint("faces", __name__, url_prefix="/staff/face-stills")
guard_blueprint(
    bp, Role.ADMIN, Role.HR, Role.EXAMINER, Role.ASSISTANT, read_only_roles=(Role.SUPERVISOR,)
)


@bp.get("/<int:still_id>.jpg")
def still(still_id: int):
    found = db.session.get(FaceStill, still_id)
    candidate = db.session.get(Candidate, found.candidate_id) if found is not None else None
    if found is None or candidate is None or not may_see_still(current_user, found, candidate):
        abort(404)
    path = still_file(found)
    if path is None:
        abort(404)  # purged with the exam's retention, or never written
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
