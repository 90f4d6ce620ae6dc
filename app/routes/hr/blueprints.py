"""The three HR blueprints, their role guard and the one exam loader (g.exam)."""

from flask import Blueprint, g

from app import db
from app.decorators import guard_blueprint
from app.models import Exam, Role

bp = Blueprint("hr", __name__, url_prefix="/hr")
overview_bp = Blueprint("hr_overview", __name__, url_prefix="/hr")
scores_bp = Blueprint("hr_scores", __name__, url_prefix="/hr/exams/<int:exam_id>")
BLUEPRINTS = (bp, overview_bp, scores_bp)


def _read_exam_id(endpoint, values) -> None:
    # Only read here: URL value preprocessors run before the role guard, and a stranger must be
    # sent to the login page, not told which exams exist. The view keeps its exam_id argument.
    g.exam_id = (values or {}).get("exam_id")


def _load_exam() -> None:
    """g.exam: the exam the URL names, or a 404 (after the guard has let the user in)."""
    if g.exam_id is not None:
        g.exam = db.get_or_404(Exam, g.exam_id)


for _blueprint in BLUEPRINTS:
    guard_blueprint(_blueprint, Role.HR, Role.ADMIN)
    _blueprint.url_value_preprocessor(_read_exam_id)
    _blueprint.before_request(_load_exam)  # after the guard: before_request runs in order
