"""HR (人事/考务): exams, panels, candidates, codes, notices, questions, scores, exports.

Three blueprints, one guard: `hr` (setting an exam up), `hr_overview` (the live overview and
timelines) and `hr_scores` (score sheet, paper entry, results). Every change is one transaction
together with its audit event; an edit records what it was before and what it is after.
"""

from flask import Blueprint, Flask

from app.decorators import guard_blueprint
from app.models import Role

bp = Blueprint("hr", __name__, url_prefix="/hr")
overview_bp = Blueprint("hr_overview", __name__, url_prefix="/hr")
scores_bp = Blueprint("hr_scores", __name__, url_prefix="/hr/exams/<int:exam_id>")
for _blueprint in (bp, overview_bp, scores_bp):
    guard_blueprint(_blueprint, Role.HR, Role.ADMIN)

# The views register themselves on the blueprints above when imported.
from app.routes.hr import (  # noqa: E402,F401,I001
    codes, exams, notices, overview, panels, questions, roster, scores,
)


def register(app: Flask) -> None:
    for blueprint in (bp, overview_bp, scores_bp):
        app.register_blueprint(blueprint)
