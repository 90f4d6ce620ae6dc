"""HR's question sets (题本): for every panel or one, shown to the candidate when the timer starts."""

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from app import audit, db
from app.models import Exam, QuestionSet
from app.routes.hr.blueprints import bp
from app.routes.hr.forms import QuestionSetForm, plain_text
from app.routes.hr.lookups import child_or_404, panel_list
from app.setup.questions import question_sets_frozen, question_snapshot, questions_shown


@bp.get("/exams/<int:exam_id>/questions")
def questions(exam_id: int):
    exam = g.exam
    panel_names = {panel.id: panel.name for panel in panel_list(exam)}
    return render_template(
        "hr/questions.html",
        exam=exam,
        question_sets=exam.question_sets,
        panel_names=panel_names,
        frozen=question_sets_frozen(exam),
    )


def _question_form(exam: Exam, question_set: QuestionSet | None) -> QuestionSetForm:
    form = QuestionSetForm(obj=question_set)
    panels = panel_list(exam)
    form.panel_id.choices = [SelectChoice("0", _("every panel"))] + [
        SelectChoice(str(p.id), p.name) for p in panels
    ]
    return form


def _apply_question_form(form: QuestionSetForm, question_set: QuestionSet) -> None:
    question_set.title = form.title.data.strip()
    question_set.panel_id = form.panel_id.data or None
    question_set.body = plain_text(form.body.data)
    question_set.scoring_guide = plain_text(form.scoring_guide.data)
    question_set.position = form.position.data


@bp.route("/exams/<int:exam_id>/questions/new", methods=["GET", "POST"])
def new_question_set(exam_id: int):
    exam = g.exam
    form = _question_form(exam, None)
    frozen = _frozen_under_lock(exam) if form.is_submitted() else question_sets_frozen(exam)
    if frozen:
        return _frozen_form(form, exam, None, frozen)
    if form.validate_on_submit():
        question_set = QuestionSet(exam_id=exam.id)
        _apply_question_form(form, question_set)
        db.session.add(question_set)
        db.session.flush()
        audit.record(
            "question_set.created",
            exam_id=exam.id,
            question_set=question_set.id,
            after=question_snapshot(question_set),
        )
        db.session.commit()
        flash(_("Question set added."), "success")
        return redirect(url_for("hr.questions", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/question_form.html", form=form, exam=exam, question_set=None), status


@bp.route("/exams/<int:exam_id>/questions/<int:question_set_id>", methods=["GET", "POST"])
def edit_question_set(exam_id: int, question_set_id: int):
    exam = g.exam
    question_set = child_or_404(QuestionSet, question_set_id)
    form = _question_form(exam, question_set)
    frozen = _frozen_under_lock(exam) if form.is_submitted() else question_sets_frozen(exam)
    if frozen:
        return _frozen_form(form, exam, question_set, frozen)
    if form.validate_on_submit():
        before = question_snapshot(question_set)
        _apply_question_form(form, question_set)
        audit.record(
            "question_set.updated",
            exam_id=exam.id,
            question_set=question_set.id,
            before=before,
            after=question_snapshot(question_set),
        )
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("hr.questions", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return (
        render_template("hr/question_form.html", form=form, exam=exam, question_set=question_set),
        status,
    )


@bp.post("/exams/<int:exam_id>/questions/<int:question_set_id>/delete")
def delete_question_set(exam_id: int, question_set_id: int):
    exam = g.exam
    question_set = child_or_404(QuestionSet, question_set_id)
    frozen = _frozen_under_lock(exam)
    if frozen:
        flash(frozen, "error")
        return redirect(url_for("hr.questions", exam_id=exam.id))
    if questions_shown(question_set):
        flash(
            _("Candidates have been shown these questions: the set cannot be deleted."),
            "error",
        )
        return redirect(url_for("hr.questions", exam_id=exam.id))
    audit.record(
        "question_set.deleted",
        exam_id=exam.id,
        question_set=question_set.id,
        before=question_snapshot(question_set),
    )
    db.session.delete(question_set)
    db.session.commit()
    flash(_("Deleted."), "success")
    return redirect(url_for("hr.questions", exam_id=exam.id))


def _frozen_under_lock(exam: Exam) -> str | None:
    """question_sets_frozen, read under the exam's row lock: the chief's first start_timer
    updates that row, so a save under way finishes first or sees the interviews started."""
    db.session.refresh(exam, with_for_update=True)
    return question_sets_frozen(exam)


def _frozen_form(form: QuestionSetForm, exam: Exam, question_set: QuestionSet | None, why: str):
    """The form shown read-only with why; a POST is refused with 400 and nothing saved."""
    db.session.rollback()
    status = 400 if form.is_submitted() else 200
    page = render_template(
        "hr/question_form.html", form=form, exam=exam, question_set=question_set, frozen=why
    )
    return page, status
