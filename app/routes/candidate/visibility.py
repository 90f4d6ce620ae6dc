"""疑似切屏: the page's beacon when the candidate came back after being away (app/day/signals.py)."""

from flask import abort, g, request

from app import db
from app.day.signals import BadReport, parse_away_report, record_away
from app.routes.candidate.blueprints import bp


@bp.post("/me/visibility")
def visibility():
    """A beacon from the page (sendBeacon: no headers, so the CSRF token is a field): `kind`
    (hidden/blur) and `ms`, how long the page was away. A malformed beacon is a 400; a short
    one, one outside the watched states or a repeat within seconds is answered and ignored.

    It changes no state and no version, so the candidate's page does not re-render because of it;
    the consoles see the counter (app/day/consoles.panel_version).
    """
    try:
        report = parse_away_report(request.form.get("kind"), request.form.get("ms"))
    except BadReport:
        abort(400)
    candidate = g.get("candidate")
    if candidate is None:
        return "", 204
    if record_away(candidate, report):
        db.session.commit()
    return "", 204
