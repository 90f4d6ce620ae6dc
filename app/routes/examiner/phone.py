"""The second camera (辅机位) on the examiners' console: a phone missing from the interview or
rest-room call is an alert (candidates as "考生 07" only)."""

from flask import render_template

from app.day import second_camera
from app.day.consoles import fragment, not_modified
from app.routes.examiner.access import examiner_panel
from app.routes.examiner.console import bp
from app.timeutil import utcnow


@bp.get("/panels/<int:panel_id>/phone-alerts")
def phone_alerts(panel_id: int):
    panel = examiner_panel(panel_id)
    view = second_camera.alerts_view(panel, "examiner", utcnow())
    return not_modified(view["etag"]) or fragment(
        render_template("_phone_alerts.html", panel=panel, audience="examiner"), view["etag"]
    )
