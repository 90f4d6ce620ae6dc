"""HR's exams: the list, creating and editing one, its detail page, closing entry early."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from app import audit, db
from app.day.controls import ExamDayError, close_entry_counts, close_entry_now
from app.day.schedule import waiting_opens_at
from app.day.supervision import assignable_supervisors, supervisors_of
from app.models import Candidate, Exam, ExamKind
from app.refusals import message_of
from app.retention.kinds import RETENTION_SETTINGS
from app.retention.purge import due_at
from app.routes.hr.blueprints import bp
from app.routes.hr.forms import NO_CHOICE, ExamForm
from app.routes.hr.lookups import panels_with_staff
from app.setup.codes import conflicting_codes, lock_code_allocation
from app.setup.exams import (
    EXAM_FIELDS,
    apply_exam_settings,
    changed_settings,
    entry_closable,
    exam_snapshot,
    frozen_changes_refused,
    frozen_fields,
    has_linked_mocks,
    keep_frozen,
)
from app.timeutil import format_beijing, utcnow


@bp.get("/exams")
def exams():
    rows = db.session.scalars(db.select(Exam).order_by(Exam.login_opens_at.desc())).all()
    return render_template("hr/exams.html", exams=rows)


def _exam_form(exam: Exam | None) -> ExamForm:
    form = ExamForm(obj=exam)
    form.stored_cutoff = exam.entry_cutoff_at if exam is not None else None
    if exam is not None and not form.is_submitted():
        form.show_minutes_not_times(exam)
    formal = db.session.scalars(
        select(Exam).where(Exam.kind == ExamKind.FORMAL).order_by(Exam.login_opens_at.desc())
    ).all()
    form.formal_exam_id.choices = [NO_CHOICE] + [
        SelectChoice(str(e.id), f"{e.name}（{format_beijing(e.login_opens_at, '%Y-%m-%d')}）")
        for e in formal
        if exam is None or e.id != exam.id
    ]
    return form


def _settings(form: ExamForm) -> dict:
    return {name: getattr(form, name).data for name in EXAM_FIELDS}


@bp.route("/exams/new", methods=["GET", "POST"])
def new_exam():
    form = _exam_form(None)
    if form.validate_on_submit():
        exam = Exam()
        apply_exam_settings(exam, _settings(form))
        db.session.add(exam)
        db.session.flush()
        audit.record("exam.created", exam_id=exam.id, after=exam_snapshot(exam))
        db.session.commit()
        flash(_("Exam %(name)s created.", name=exam.name), "success")
        return redirect(url_for("hr.exam_detail", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/exam_form.html", form=form, exam=None), status


@bp.route("/exams/<int:exam_id>/edit", methods=["GET", "POST"])
def edit_exam(exam_id: int):
    exam = g.exam
    form = _exam_form(exam)
    if form.validate_on_submit():
        if form.kind.data == ExamKind.MOCK and has_linked_mocks(exam):
            form.kind.errors.append(_("Mock exams link to this one: it stays formal."))
            return _exam_form_page(form, exam), 400
        # Read the exam again under a row lock: a chief starting the first interview now waits
        # for this save (start_timer updates the row), or this save sees the freeze.
        db.session.refresh(exam, with_for_update=True)
        fixed = frozen_changes_refused(exam, _settings(form))
        if fixed:
            # The whole save is refused: half a save would leave HR unsure what was kept.
            for name, reason in fixed.items():
                getattr(form, name).errors.append(reason)
            return _exam_form_page(form, exam, nothing_saved=True), 400
        before = exam_snapshot(exam)
        # Serialise with code allocation: an import into an overlapping exam must not hand out a
        # code between our check and our commit.
        lock_code_allocation()
        apply_exam_settings(exam, keep_frozen(exam, _settings(form)))
        clashes = conflicting_codes(exam)
        if clashes:
            db.session.rollback()
            form.login_opens_at.errors.append(
                _(
                    "The new window (or confirmation period) overlaps another exam that uses"
                    " %(n)s of the same codes: nothing was saved; choose times that do not"
                    " overlap.",
                    n=len(clashes),
                )
            )
            return _exam_form_page(form, exam), 400
        after = exam_snapshot(exam)
        changed = changed_settings(before, after)
        if changed:
            audit.record(
                "exam.updated",
                exam_id=exam.id,
                before={name: before[name] for name in changed},
                after={name: after[name] for name in changed},
            )
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("hr.exam_detail", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return _exam_form_page(form, exam), status


def _exam_form_page(form: ExamForm, exam: Exam, nothing_saved: bool = False) -> str:
    """The edit form; the settings that may no longer change are shown read-only, with why."""
    frozen = frozen_fields(exam)
    return render_template(
        "hr/exam_form.html",
        form=form,
        exam=exam,
        frozen_fields=frozen,
        interviews_started=exam.interviews_started_at is not None,
        scoring_fixed=bool(frozen),
        nothing_saved=nothing_saved,
    )


@bp.get("/exams/<int:exam_id>")
def exam_detail(exam_id: int):
    exam = g.exam
    panels = panels_with_staff(exam)
    by_state = dict(
        db.session.execute(
            select(Candidate.state, func.count())
            .where(Candidate.exam_id == exam.id)
            .group_by(Candidate.state)
        ).all()
    )
    by_panel = dict(
        db.session.execute(
            select(Candidate.panel_id, func.count())
            .where(Candidate.exam_id == exam.id)
            .group_by(Candidate.panel_id)
        ).all()
    )
    formal_exam = db.session.get(Exam, exam.formal_exam_id) if exam.formal_exam_id else None
    return render_template(
        "hr/exam_detail.html",
        exam=exam,
        formal_exam=formal_exam,
        panels=panels,
        by_state=by_state,
        by_panel=by_panel,
        total=sum(by_state.values()),
        notice_count=len(exam.notices),
        question_count=len(exam.question_sets),
        entry_closable=entry_closable(exam, utcnow()),
        waiting_opens_at=waiting_opens_at(exam),
        supervisors=supervisors_of(exam),
        assignable_supervisors=assignable_supervisors(exam),
        RETENTION_SETTINGS=RETENTION_SETTINGS,
        purge_from={
            name: due_at(exam, days)
            for name in RETENTION_SETTINGS
            if (days := getattr(exam, name)) is not None
        },
    )


@bp.route("/exams/<int:exam_id>/close-entry", methods=["GET", "POST"])
def close_entry(exam_id: int):
    """立即截止入场 asks first (one click once made eleven candidates absent): the question names
    how many become absent and how many are still debugging; only a POST with confirm=yes acts,
    a POST without it asks again."""
    exam = g.exam
    if request.method == "POST" and request.form.get("confirm") == "yes":
        return _close_entry(exam)
    now = utcnow()
    if not entry_closable(exam, now):
        code = "login_not_open" if now < exam.login_opens_at else "entry_already_closed"
        flash(message_of(code), "error")
        return redirect(url_for("hr.exam_detail", exam_id=exam.id), 303)
    return render_template("hr/close_entry.html", exam=exam, counts=close_entry_counts(exam.id)), (
        400 if request.method == "POST" else 200
    )


def _close_entry(exam: Exam):
    try:
        changed = close_entry_now(exam.id, current_user._get_current_object())
    except ExamDayError as problem:
        flash(problem.message, "error")
    else:
        flash(
            _(
                "Entry closed; %(n)s candidates updated (those not yet debugging are absent,"
                " those without a lot got one; those still debugging go to the waiting room"
                " once debugged, with lots after the drawn ones).",
                n=changed,
            ),
            "success",
        )
    return redirect(url_for("hr.exam_detail", exam_id=exam.id), 303)
