"""`/pulse/<exam>/<panel>/<token>`: the shared "poll now" answer of a panel (app/day/pulse.py).

No session is read or written (no cookie in the answer), so nginx may keep one copy for every
page of the panel; the token makes the URL unguessable without a page of that panel.
"""

import time

from flask import abort, g, jsonify, url_for

from app.day.pulse import (
    PULSE_MAX_AGE,
    PULSE_SECONDS,
    pulse_token,
    read_pulse,
    token_ok,
    wake_tag,
)
from app.day.session import reads_candidate_itself
from app.routes.candidate.blueprints import bp


@bp.get("/pulse/<int:exam_id>/<int:panel_id>/<token>")
@reads_candidate_itself  # nothing of the signed-in candidate is needed: no statement at all
def pulse(exam_id: int, panel_id: int, token: str):
    if not token_ok(exam_id, panel_id, token):
        abort(404)
    answer = read_pulse(exam_id, panel_id or None)
    if answer is None:
        # Without Redis the pulse knows nothing; the pages poll every 2 s meanwhile.
        response = jsonify({"v": None, "w": []})
        response.status_code = 503
        response.headers["Cache-Control"] = "no-store"
        return response
    response = jsonify(answer)
    response.headers["Cache-Control"] = f"public, max-age={PULSE_MAX_AGE}"
    # nginx counts a copy's life in whole seconds: `max-age=1` alone keeps one up to 2 s. This
    # keeps it only to the end of the current second (nginx never passes X-Accel-* on).
    response.headers["X-Accel-Expires"] = f"@{int(time.time())}"
    return response


@bp.context_processor
def _pulse_of_the_page() -> dict:
    """Where the signed-in candidate's page reads its pulse, and the tag of her own wakes."""
    candidate = getattr(g, "candidate", None)
    if candidate is None:
        return {}
    return {
        "pulse_url": url_for(
            "candidate.pulse",
            exam_id=candidate.exam_id,
            panel_id=candidate.panel_id or 0,
            token=pulse_token(candidate.exam_id, candidate.panel_id),
        ),
        "wake_tag": wake_tag(candidate.id),
        "pulse_seconds": PULSE_SECONDS,
    }
