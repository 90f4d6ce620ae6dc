"""The second camera (辅机位) on the assistant's console: the check during the debug call
(辅机位已核验) and the alerts for phones missing from the interview and rest-room calls."""

from flask import render_template
from flask_babel import gettext as _

from app.day import second_camera
from app.day.consoles import (
    done,
    fragment,
    not_modified,
    refusal_for_staff,
    refused,
    staff_user,
)
from app.journey import Actor, Refused, perform, second_camera_connected
from app.models import Candidate
from app.routes.assistant.blueprints import bp
from app.routes.assistant.scope import console_url, my_candidate, my_panel, panel_of
from app.timeutil import utcnow


@bp.app_template_global("phone_check")
def phone_check(candidate: Candidate) -> dict:
    """What `assistant/_phone_check.html` shows about the phone of the candidate in my call."""
    now = utcnow()
    state = second_camera.phone_state(candidate.id)
    verified = candidate.second_camera_verified_at
    view: dict = {
        "candidate": candidate,
        "required": bool(candidate.exam.requires_second_camera),
        "in_call": candidate.state == "debugging",
        "seen": second_camera.staff_sees_phone(candidate, state),
        "camera_on": second_camera.camera_reported_on(state, now),
        "connected": second_camera_connected(candidate, now),
        "verified_at": candidate.second_camera_verified_at,
    }
    keys = ("in_call", "seen", "camera_on", "connected", "required")
    view["etag"] = f"pc{candidate.id}-" + "".join(str(int(bool(view[k]))) for k in keys)
    view["etag"] += f"-{int(verified.timestamp()) if verified else 0}"
    return view


@bp.get("/candidates/<int:candidate_id>/phone-check")
def phone_check_fragment(candidate_id: int):
    candidate = my_candidate(candidate_id)
    view = phone_check(candidate)
    return not_modified(view["etag"]) or fragment(
        render_template("assistant/_phone_check.html", c=candidate), view["etag"]
    )


@bp.post("/candidates/<int:candidate_id>/verify-phone")
def verify_phone(candidate_id: int):
    """辅机位已核验: I saw the phone's picture in my debug call and its angle is right."""
    candidate = my_candidate(candidate_id)
    panel = panel_of(candidate)
    name = candidate.name
    try:
        candidate = perform(
            candidate.id, "verify_second_camera", Actor.staff(staff_user()), utcnow()
        )
    except Refused as refusal:
        return refused(
            refusal_for_staff(refusal, name, _("check the second camera")), console_url(panel)
        )
    return done(
        _("%(name)s: second camera checked.", name=name),
        console_url(panel),
        lambda: render_template("assistant/_phone_check.html", c=candidate),
    )


@bp.get("/panels/<int:panel_id>/phone-alerts")
def phone_alerts(panel_id: int):
    panel = my_panel(panel_id)
    view = second_camera.alerts_view(panel, "assistant", utcnow())
    return not_modified(view["etag"]) or fragment(
        render_template("_phone_alerts.html", panel=panel, audience="assistant"), view["etag"]
    )
