"""HR (人事/考务): exams, panels, candidates, codes, notices, questions, scores, exports.

Three blueprints, one guard and one exam loader: `hr` (setting an exam up), `hr_overview` (the
live overview and timelines) and `hr_scores` (score sheet, paper entry, results). Every change
is one transaction together with its audit event; an edit records what it was before and what
it is after.
"""

from flask import Flask

# The views register themselves on the blueprints above when imported.
from app.routes.hr import (  # noqa: F401
    codes,
    exams,
    help,
    notices,
    overrides,
    overview,
    panels,
    questions,
    review,
    roster,
    scores,
    supervisors,
)
from app.routes.hr.blueprints import BLUEPRINTS, bp, overview_bp, scores_bp


def register(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


__all__ = ["BLUEPRINTS", "bp", "overview_bp", "register", "scores_bp"]
