"""HR's invitation codes (邀请码): the list, a new code for one candidate, the slips (通知单)."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import audit, db
from app.exports import download
from app.listing import PAGE_SIZE, SLIPS_PAGE_SIZE, CandidateFilters, page_number, paginate
from app.models import Candidate, Exam
from app.routes.hr.blueprints import bp
from app.routes.hr.lookups import child_or_404, exam_or_404, panel_list, saved_or_flash_stale
from app.setup import slips
from app.setup.codes import CodeSpaceFull, allocate_codes


def _listed(exam: Exam, size: int = PAGE_SIZE, *, states: bool = True) -> dict:
    """One page of the exam's candidates as the codes and slips pages list them (by position,
    then import order), with the filters of the URL."""
    panels = panel_list(exam)
    filters = CandidateFilters.from_args(request.args, [p.id for p in panels], states=states)
    page, rows = paginate(
        filters.apply(
            select(Candidate)
            .where(Candidate.exam_id == exam.id)
            .options(joinedload(Candidate.panel))
            .order_by(Candidate.position, Candidate.id)
        ),
        request.args.get("page"),
        size,
    )
    return {"exam": exam, "panels": panels, "filters": filters, "page": page, "candidates": rows}


def _back_to_codes(exam: Exam):
    # The list HR clicked from: the same page and filters (the form posts them along).
    panels = [p.id for p in panel_list(exam)]
    filters = CandidateFilters.from_args(request.args, panels)
    return redirect(
        url_for(
            "hr.codes", exam_id=exam.id, **filters.with_page(page_number(request.args.get("page")))
        )
    )


@bp.get("/exams/<int:exam_id>/codes")
def codes(exam_id: int):
    return render_template("hr/codes.html", **_listed(g.exam))


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
        return _back_to_codes(exam)
    try:
        (code,) = allocate_codes(exam, 1)
    except CodeSpaceFull as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back_to_codes(exam)
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
    return _back_to_codes(exam)


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
    # Printed per panel and per page: the whole exam at once is megabytes no browser prints
    # well (the downloads above still hold every slip).
    return render_template(
        "hr/slips.html",
        **_listed(g.exam, SLIPS_PAGE_SIZE, states=False),
        login_url=url_for("candidate.index", _external=True),
    )
