"""My debug call (one at a time) and the candidate's ID photo for the identity check."""

from flask import abort, render_template, send_file
from flask_login import current_user

from app import audit, db
from app.day.consoles import fragment, not_modified, settle_due
from app.day.id_photo import SERVED_SUFFIXES, stored_photo
from app.jitsi.embed import embed_for_staff
from app.journey import live_debug_call
from app.models import Call, Candidate, Panel
from app.routes.assistant.blueprints import bp
from app.routes.assistant.scope import my_candidate, my_panel
from app.timeutil import utcnow

# --- my debug call -----------------------------------------------------------------------------


def my_live_call(panel: Panel, column=Call):
    """The debug call I placed in this panel that still rings or runs (the newest, if several)."""
    return live_debug_call(current_user.id, panel.id, column)


def _debug_call_etag(panel: Panel, call_id: int | None) -> str:
    # The call alone: a new token or the candidate accepting must not reload a running call.
    return f"dc{panel.id}-{call_id or 0}"


def debug_call_context(panel: Panel) -> dict:
    call = my_live_call(panel)
    context = {
        "panel": panel,
        "live_call": call,
        "etag": _debug_call_etag(panel, call.id if call else None),
    }
    if call is not None:
        context["candidate"] = db.session.get(Candidate, call.candidate_id)
        context["embed"] = embed_for_staff(current_user, call.room, "debug", "assistant")
    return context


@bp.get("/panels/<int:panel_id>/debug-call")
def debug_call(panel_id: int):
    panel = my_panel(panel_id)
    settle_due(utcnow(), panel_id=panel.id)
    cached = not_modified(_debug_call_etag(panel, my_live_call(panel, Call.id)))
    if cached is not None:
        return cached
    context = debug_call_context(panel)
    return fragment(render_template("assistant/_debug_call.html", dc=context), context["etag"])


@bp.get("/candidates/<int:candidate_id>/id-photo")
def id_photo(candidate_id: int):
    """The uploaded ID photo, for the identity check; assistants of the candidate's panel only."""
    candidate = my_candidate(candidate_id)
    path = stored_photo(candidate)
    if path is None:
        abort(404)
    audit.record("candidate.id_photo_viewed", candidate=candidate)
    db.session.commit()
    response = send_file(path, mimetype=SERVED_SUFFIXES[path.suffix.lower()], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
