"""Candidate pages (Simplified Chinese): code entry and the way through the rooms."""

from flask import Blueprint, g, redirect, render_template, request, url_for

from app import audit, db
from app.candidate_session import candidate_required, find_candidate_by_code, load_candidate, sign_in
from app.timeutil import utcnow

bp = Blueprint("candidate", __name__)
bp.before_app_request(load_candidate)


@bp.route("/", methods=["GET", "POST"])
def index():
    message = None
    if request.method == "POST":
        code = request.form.get("code", "")
        result = find_candidate_by_code(code, utcnow())
        if result.candidate is None:
            audit.record("candidate.code_refused", code_tail=code.strip()[-2:], reason=result.message)
            db.session.commit()
            return render_template("candidate/code.html", message=result.message), 400
        sign_in(result.candidate)
        db.session.commit()
        return redirect(url_for("candidate.home"))
    return render_template("candidate/code.html", message=message)


@bp.get("/me")
@candidate_required
def home():
    return render_template("candidate/home.html", candidate=g.candidate)


@bp.get("/signed-in-elsewhere")
def taken_over():
    return render_template("candidate/taken_over.html")
