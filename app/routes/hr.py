"""HR (人事/考务): exams, panels, candidates, codes, notices, questions, scores, exports."""

from flask import Blueprint, render_template

from app import db
from app.decorators import guard_blueprint
from app.models import Exam, Role

bp = Blueprint("hr", __name__, url_prefix="/hr")
guard_blueprint(bp, Role.HR, Role.ADMIN)


@bp.get("/exams")
def exams():
    rows = db.session.scalars(db.select(Exam).order_by(Exam.login_opens_at.desc())).all()
    return render_template("hr/exams.html", exams=rows)
