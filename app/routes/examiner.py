"""Examiner (考官) console: panel queue, timer, questions, scoring."""

from flask import Blueprint, render_template
from flask_login import current_user

from app.decorators import guard_blueprint
from app.models import PanelRole, Role
from app.staff_panels import panels_of

bp = Blueprint("examiner", __name__, url_prefix="/examiner")
guard_blueprint(bp, Role.EXAMINER)


@bp.get("/")
def home():
    return render_template("examiner/home.html", panels=panels_of(current_user, PanelRole.EXAMINER))
