"""Which panels and candidates are mine, as an assistant."""

from flask import abort, url_for
from flask_login import current_user

from app import db
from app.day.consoles import my_panel_or_403
from app.day.staff_scope import panels_of
from app.models import Candidate, Panel, PanelRole


def my_panels() -> list[Panel]:
    return panels_of(current_user, PanelRole.ASSISTANT)


def my_panel(panel_id: int) -> Panel:
    return my_panel_or_403(panel_id, PanelRole.ASSISTANT)


def my_candidate(candidate_id: int) -> Candidate:
    """A candidate of one of my panels; anyone else's does not exist for me (404)."""
    candidate = db.get_or_404(Candidate, candidate_id)
    if candidate.panel_id not in {p.id for p in my_panels()}:
        abort(404)
    return candidate


def panel_of(candidate: Candidate) -> Panel:
    """The panel of a candidate from `my_candidate`, which is on one of my panels."""
    panel = candidate.panel
    assert panel is not None, "my_candidate's candidate is on one of my panels"
    return panel


def console_url(panel: Panel) -> str:
    return url_for("assistant.panel", panel_id=panel.id)


def seconds(delta) -> int:
    return int(delta.total_seconds())
