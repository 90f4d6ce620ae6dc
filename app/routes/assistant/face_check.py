"""人脸比对 in my debug call: the ID photo and the candidate's camera still side by side, the
verdict and the distance, and 身份已核验 with a note when the comparison says 不一致."""

from flask import render_template, request
from flask_babel import gettext as _

from app import db
from app.day.consoles import done, fragment, not_modified, refusal_for_staff, refused, staff_user
from app.faces import stills
from app.faces.verdicts import LABELS, TONE, Verdict, thresholds
from app.journey import Actor, Refused, perform
from app.models import Candidate, FaceStill
from app.routes.assistant.blueprints import bp
from app.routes.assistant.console import render_board
from app.routes.assistant.scope import console_url, my_candidate, panel_of
from app.timeutil import utcnow

NOTE_MAX = 300


def face_check_context(candidate: Candidate, still: FaceStill | None) -> dict:
    """`still`: the newest identity still (`stills.latest_still`), read once by the caller."""
    verdict = Verdict(still.verdict) if still is not None else None
    threshold, margin = thresholds()
    return {
        "candidate": candidate,
        "still": still,
        "verdict": verdict,
        "label": LABELS[verdict] if verdict is not None else None,
        "tone": TONE[verdict] if verdict is not None else "",
        "threshold": threshold,
        "margin": margin,
        "note_required": verdict == Verdict.MISMATCH,
        "etag": face_check_etag(candidate, still),
    }


def face_check_etag(candidate: Candidate, still: FaceStill | None) -> str:
    checked = "k" if candidate.identity_checked_at else "u"
    return f"fc{candidate.id}-{still.id if still else 0}-{still.verdict if still else ''}-{checked}"


@bp.get("/candidates/<int:candidate_id>/face-check")
def face_check(candidate_id: int):
    candidate = my_candidate(candidate_id)
    still = stills.latest_still(candidate.id, stills.IDENTITY)
    etag = face_check_etag(candidate, still)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    return fragment(
        render_template("assistant/_face_check.html", fc=face_check_context(candidate, still)),
        etag,
    )


@bp.post("/candidates/<int:candidate_id>/check-identity")
def check_identity(candidate_id: int):
    """身份已核验 for the still the form showed; against a 不一致 only with a note."""
    candidate = my_candidate(candidate_id)
    panel = panel_of(candidate)
    name = candidate.name
    note = (request.form.get("note") or "").strip()[:NOTE_MAX]
    try:
        perform(
            candidate.id,
            "check_identity",
            Actor.staff(staff_user()),
            utcnow(),
            still_id=request.form.get("still_id") or None,
            note=note or None,
        )
    except Refused as refusal:
        return refused(
            refusal_for_staff(refusal, name, _("check the identity")), console_url(panel)
        )
    db.session.expire_all()
    return done(
        _("%(name)s: identity checked.", name=name), console_url(panel), lambda: render_board(panel)
    )
