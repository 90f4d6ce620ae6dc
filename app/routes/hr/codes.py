"""HR's invitation codes (邀请码): the list, a new code for one candidate, the slips (通知单)."""

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from app import audit, db
from app.exports import download
from app.models import Candidate
from app.routes.hr.blueprints import bp
from app.routes.hr.lookups import child_or_404, exam_or_404, saved_or_flash_stale
from app.setup import slips
from app.setup.codes import CodeSpaceFull, allocate_codes
from app.setup.roster import exam_candidates


@bp.get("/exams/<int:exam_id>/codes")
def codes(exam_id: int):
    exam = g.exam
    return render_template("hr/codes.html", exam=exam, candidates=exam_candidates(exam))


@bp.post("/exams/<int:exam_id>/candidates/<int:candidate_id>/code")
def regenerate_code(exam_id: int, candidate_id: int):
    exam = g.exam
    candidate = child_or_404(Candidate, candidate_id)
    if candidate.session_nonce is not None:
        flash(
            _(
                "%(name)s has signed in with this code: it cannot change now.",
                name=candidate.name,
            ),
            "error",
        )
        return redirect(url_for("hr.codes", exam_id=exam.id))
    try:
        (code,) = allocate_codes(exam, 1)
    except CodeSpaceFull as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("hr.codes", exam_id=exam.id))
    # Codes are secrets: the log keeps enough to tell them apart, not enough to sign in.
    audit.record(
        "candidate.code_regenerated",
        candidate=candidate,
        before={"code_tail": candidate.code[-2:]},
        after={"code_tail": code[-2:]},
    )
    candidate.code = code
    if saved_or_flash_stale():
        flash(
            _("New code made for %(name)s: send the slip again.", name=candidate.name),
            "success",
        )
    return redirect(url_for("hr.codes", exam_id=exam.id))


@bp.get("/exams/<int:exam_id>/slips.csv")
def slips_csv(exam_id: int):
    exam = exam_or_404(exam_id)
    return download(slips.slips_csv(exam), f"slips-exam-{exam.id}.csv")


@bp.get("/exams/<int:exam_id>/slips.xlsx")
def slips_xlsx(exam_id: int):
    exam = exam_or_404(exam_id)
    return download(slips.slips_xlsx(exam), f"slips-exam-{exam.id}.xlsx")


@bp.get("/exams/<int:exam_id>/slips")
def slips_print(exam_id: int):
    exam = g.exam
    return render_template(
        "hr/slips.html",
        exam=exam,
        candidates=exam_candidates(exam),
        login_url=url_for("candidate.index", _external=True),
    )
