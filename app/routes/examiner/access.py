"""Which panel, candidate and buttons an examiner may reach: shared by the console and scoring.

An examiner reaches only the panels they sit on (404/403 otherwise, from `my_panel_or_403`), and
only the candidates of that panel; the chief examiner (Panel.chief_examiner_id) alone may press
the chief's buttons, whatever another examiner posts.
"""

from flask import abort, url_for
from flask_login import current_user

from app import db
from app.day.consoles import my_panel_or_403
from app.models import Candidate, Panel, PanelRole


def examiner_panel(panel_id: int) -> Panel:
    return my_panel_or_403(panel_id, PanelRole.EXAMINER)


def is_chief(panel: Panel) -> bool:
    return panel.chief_examiner_id == current_user.id


def chief_panel(panel_id: int) -> Panel:
    panel = examiner_panel(panel_id)
    if not is_chief(panel):
        abort(403)
    return panel


def panel_candidate(panel: Panel, candidate_id: int) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.panel_id != panel.id:
        abort(404)
    return candidate


def console_url(panel: Panel) -> str:
    return url_for("examiner.panel", panel_id=panel.id)
