"""HR's score pages: the score sheet (评分表), paper entry (纸质评分录入), results and exports.

Thin views over `app.scoring.sheets`, `app.scoring.paper_entry`, `app.scoring.service`, `app.scoring.results_view` and
`app.scoring.results`; a refused change re-renders the page with the message and what was typed
(status 400), and nothing is saved.
"""

from flask import (
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import db
from app.exports import download
from app.models import Candidate, Exam, Panel, ScoreDimension, User
from app.models.candidate import SCORABLE
from app.routes.hr.blueprints import scores_bp as bp
from app.routes.hr.lookups import child_or_404, exam_or_404
from app.scoring.paper_entry import enter_from_paper
from app.scoring.results import results_csv, results_xlsx
from app.scoring.results_view import results_page
from app.scoring.rules import Rule
from app.scoring.rules import sheet_total as values_total
from app.scoring.service import (
    ScoreError,
    correction_notice,
    dimensions_of,
    panel_examiners,
    publish_exam,
    published_final,
    recused_ids,
    result_of,
    sheet_of,
)
from app.scoring.sheets import (
    FROZEN_MESSAGE,
    USUAL_TOTAL,
    add_dimension,
    add_usual_sheet,
    is_frozen,
    move_dimension,
    remove_dimension,
    sheet_total,
    update_dimension,
)
from app.scoring.summary_pdf import panel_summary_pdf
from app.security.input_guard import database_id

# Flask-Login loaded this very row to sign the request in, and staff rows are never deleted.
SIGNED_IN = "the signed-in user has a row"


# --- score sheet ------------------------------------------------------------------------------


def _sheet_page(
    exam: Exam, *, error: str | None = None, typed: dict | None = None, status: int = 200
):
    dims = dimensions_of(exam.id)
    total = sheet_total(dims)
    return render_template(
        "hr/score_sheet.html",
        exam=exam,
        dimensions=dims,
        total=total,
        usual_total=USUAL_TOTAL,
        frozen=is_frozen(exam.id),
        frozen_message=FROZEN_MESSAGE,
        error=error,
        typed=typed or {},
    ), status


@bp.get("/score-sheet")
def score_sheet(exam_id: int):
    return _sheet_page(g.exam)


@bp.post("/score-sheet")
def add_score_dimension(exam_id: int):
    exam = g.exam
    form = request.form
    try:
        dim = add_dimension(
            exam, form.get("name", ""), form.get("max_score", ""), form.get("guidance", "")
        )
    except ScoreError as error:
        db.session.rollback()
        return _sheet_page(exam, error=error.message, typed=form, status=400)
    flash(_("Dimension %(name)s added.", name=dim.name), "success")
    return redirect(url_for("hr_scores.score_sheet", exam_id=exam.id))


@bp.post("/score-sheet/usual")
def add_usual_score_sheet(exam_id: int):
    exam = g.exam
    try:
        add_usual_sheet(exam)
    except ScoreError as error:
        db.session.rollback()
        return _sheet_page(exam, error=error.message, status=400)
    flash(_("The usual sheet was added."), "success")
    return redirect(url_for("hr_scores.score_sheet", exam_id=exam.id))


@bp.route("/score-sheet/<int:dimension_id>", methods=["GET", "POST"])
def edit_score_dimension(exam_id: int, dimension_id: int):
    exam = g.exam
    dim = child_or_404(ScoreDimension, dimension_id)
    error, status = None, 200
    typed = {"name": dim.name, "max_score": str(dim.max_score), "guidance": dim.guidance}
    if request.method == "POST":
        typed = request.form
        try:
            update_dimension(
                exam,
                dim,
                typed.get("name", ""),
                typed.get("max_score", ""),
                typed.get("guidance", ""),
            )
        except ScoreError as refused:
            db.session.rollback()
            error, status = refused.message, 400
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("hr_scores.score_sheet", exam_id=exam.id))
    return render_template(
        "hr/score_sheet_dimension.html",
        exam=exam,
        dimension=dim,
        typed=typed,
        error=error,
        frozen=is_frozen(exam.id),
        frozen_message=FROZEN_MESSAGE,
    ), status


@bp.post("/score-sheet/<int:dimension_id>/delete")
def delete_score_dimension(exam_id: int, dimension_id: int):
    exam = g.exam
    dim = child_or_404(ScoreDimension, dimension_id)
    name = dim.name
    try:
        remove_dimension(exam, dim)
    except ScoreError as error:
        db.session.rollback()
        return _sheet_page(exam, error=error.message, status=400)
    flash(_("Dimension %(name)s removed.", name=name), "success")
    return redirect(url_for("hr_scores.score_sheet", exam_id=exam.id))


@bp.post("/score-sheet/<int:dimension_id>/move")
def move_score_dimension(exam_id: int, dimension_id: int):
    exam = g.exam
    dim = child_or_404(ScoreDimension, dimension_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        return _sheet_page(exam, error=_("Unknown direction."), status=400)
    try:
        move_dimension(exam, dim, step)
    except ScoreError as error:
        db.session.rollback()
        return _sheet_page(exam, error=error.message, status=400)
    return redirect(url_for("hr_scores.score_sheet", exam_id=exam.id))


# --- paper entry ------------------------------------------------------------------------------


def _examiner_rows(candidate: Candidate) -> list[dict]:
    recused = recused_ids(candidate.id)
    rows = []
    for user in panel_examiners(candidate):
        sheet = sheet_of(candidate.id, user.id)
        status = "recused" if user.id in recused else (sheet.status if sheet else "none")
        rows.append(
            {"user": user, "status": status, "from_paper": bool(sheet and sheet.entered_by_id)}
        )
    return rows


def _paper_page(
    exam: Exam,
    candidate: Candidate | None,
    examiner: User | None,
    *,
    typed: dict | None = None,
    reason: str = "",
    error: str | None = None,
    status: int = 200,
):
    candidates = list(
        db.session.scalars(
            select(Candidate)
            .options(joinedload(Candidate.panel))
            .where(Candidate.exam_id == exam.id, Candidate.panel_id.is_not(None))
            .order_by(Candidate.position, Candidate.lot_number, Candidate.id)
        )
    )
    sheet = sheet_of(candidate.id, examiner.id) if candidate and examiner else None
    if typed is None:
        typed = (
            {
                str(item.dimension_id): str(item.value)
                for item in sheet.items
                if item.value is not None
            }
            if sheet
            else {}
        )
    return render_template(
        "hr/paper_entry.html",
        exam=exam,
        candidates=candidates,
        candidate=candidate,
        examiner=examiner,
        examiners=_examiner_rows(candidate) if candidate else [],
        dimensions=dimensions_of(exam.id),
        sheet=sheet,
        submitted=bool(sheet and sheet.status == "submitted"),
        scorable=bool(candidate and candidate.state in SCORABLE),
        confirmed=bool(candidate and result_of(candidate.id)),
        typed=typed,
        reason=reason,
        error=error,
    ), status


def _pick(exam: Exam, candidate_id: int | None, examiner_id: int | None):
    candidate = child_or_404(Candidate, candidate_id) if candidate_id else None
    examiner = None
    if candidate is not None and examiner_id:
        examiner = next((u for u in panel_examiners(candidate) if u.id == examiner_id), None)
        if examiner is None:
            abort(404)
    return candidate, examiner


@bp.get("/paper-entry")
def paper_entry(exam_id: int):
    exam = g.exam
    candidate, examiner = _pick(
        exam,
        request.args.get("candidate", type=database_id),
        request.args.get("examiner", type=database_id),
    )
    return _paper_page(exam, candidate, examiner)


@bp.post("/paper-entry/<int:candidate_id>/<int:examiner_id>")
def save_paper_entry(exam_id: int, candidate_id: int, examiner_id: int):
    exam = g.exam
    candidate, examiner = _pick(exam, candidate_id, examiner_id)
    typed = {
        key[len("dim-") :]: value for key, value in request.form.items() if key.startswith("dim-")
    }
    reason = request.form.get("reason", "")
    hr = db.session.get(User, current_user.id)
    assert hr is not None, SIGNED_IN
    published_before = published_final(candidate.id)
    try:
        sheet = enter_from_paper(candidate, examiner, typed, hr, reason)
    except ScoreError as error:
        db.session.rollback()
        return _paper_page(
            exam, candidate, examiner, typed=typed, reason=reason, error=error.message, status=400
        )
    total = values_total({item.dimension_id: item.value for item in sheet.items})
    flash(
        _(
            "Scores of %(candidate)s entered for examiner %(examiner)s: total %(total)s.",
            examiner=examiner.display_name,
            candidate=candidate.name,
            total=total,
        ),
        "success",
    )
    published_after = published_final(candidate.id)
    if published_before is not None and published_after != published_before:
        assert published_after is not None, "a published result stays published"
        flash(correction_notice(exam, published_before, published_after), "info")
    return redirect(url_for("hr_scores.paper_entry", exam_id=exam.id, candidate=candidate.id))


# --- results ----------------------------------------------------------------------------------


@bp.get("/results")
def results(exam_id: int):
    exam = g.exam
    return render_template(
        "hr/results.html", exam=exam, page=results_page(exam, request.args), rule=Rule.of_exam(exam)
    )


@bp.post("/results/publish")
def publish_results(exam_id: int):
    exam = g.exam
    hr = db.session.get(User, current_user.id)
    assert hr is not None, SIGNED_IN
    try:
        count = publish_exam(exam, hr)
    except ScoreError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        if count:
            flash(_("Published the results of %(n)s candidates.", n=count), "success")
        else:
            flash(_("Nothing was waiting for publication."), "info")
    return redirect(url_for("hr_scores.results", exam_id=exam.id))


@bp.get("/results.csv")
def results_csv_download(exam_id: int):
    exam = exam_or_404(exam_id)
    return download(
        results_csv(exam), f"{exam.name}-成绩.csv", ascii_name=f"results-exam-{exam.id}.csv"
    )


@bp.get("/results.xlsx")
def results_xlsx_download(exam_id: int):
    exam = exam_or_404(exam_id)
    return download(
        results_xlsx(exam), f"{exam.name}-成绩.xlsx", ascii_name=f"results-exam-{exam.id}.xlsx"
    )


@bp.get("/panels/<int:panel_id>/summary.pdf")
def panel_summary_download(exam_id: int, panel_id: int):
    """成绩汇总表 of one panel, for the examiners' and the chief's signatures."""
    exam = g.exam
    panel = child_or_404(Panel, panel_id)
    return download(
        panel_summary_pdf(exam, panel),
        f"{exam.name}-{panel.name}-成绩汇总表.pdf",
        ascii_name=f"summary-exam-{exam.id}-panel-{panel.id}.pdf",
    )
