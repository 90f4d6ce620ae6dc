"""HR's exams: the list, creating and editing one, its detail page, closing entry early."""

from flask import flash, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from app import audit, db
from app.day.controls import ExamDayError, close_entry_now
from app.day.schedule import waiting_opens_at
from app.models import Candidate, Exam, ExamKind
from app.routes.hr.blueprints import bp
from app.routes.hr.forms import NO_CHOICE, ExamForm
from app.routes.hr.lookups import panels_with_staff
from app.scoring.sheets import is_frozen
from app.setup.codes import conflicting_codes, lock_code_allocation
from app.setup.exams import (
    EXAM_FIELDS,
    SCORING_FIXED,
    apply_exam_settings,
    changed_settings,
    entry_closable,
    exam_snapshot,
    has_linked_mocks,
    scoring_changes_refused,
)
from app.timeutil import format_beijing, utcnow


@bp.get("/exams")
def exams():
    rows = db.session.scalars(db.select(Exam).order_by(Exam.login_opens_at.desc())).all()
    return render_template("hr/exams.html", exams=rows)


def _exam_form(exam: Exam | None) -> ExamForm:
    form = ExamForm(obj=exam)
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
        flash(f"已创建考试 {exam.name}。 Exam created.", "success")
        return redirect(url_for("hr.exam_detail", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/exam_form.html", form=form, exam=None), status


@bp.route("/exams/<int:exam_id>/edit", methods=["GET", "POST"])
def edit_exam(exam_id: int):
    exam = g.exam
    form = _exam_form(exam)
    if form.validate_on_submit():
        if form.kind.data == ExamKind.MOCK and has_linked_mocks(exam):
            form.kind.errors.append(
                "已有模拟面试关联本考试，不能改为模拟。 Mock exams link to this one: it stays formal."
            )
            return render_template("hr/exam_form.html", form=form, exam=exam), 400
        fixed = scoring_changes_refused(exam, _settings(form))
        if fixed:
            for name in fixed:
                getattr(form, name).errors.append(SCORING_FIXED)
            return render_template(
                "hr/exam_form.html", form=form, exam=exam, scoring_fixed=True
            ), 400
        before = exam_snapshot(exam)
        # Serialise with code allocation: an import into an overlapping exam must not hand out a
        # code between our check and our commit.
        lock_code_allocation()
        apply_exam_settings(exam, _settings(form))
        clashes = conflicting_codes(exam)
        if clashes:
            db.session.rollback()
            form.login_opens_at.errors.append(
                f"新的登录时间（或确认期）与其他考试重叠，且两场考试有 {len(clashes)} 个邀请码相同，未保存；"
                f"请选择不与其他考试重叠的时间。 The new window overlaps another exam that uses"
                f" {len(clashes)} of the same codes: nothing was saved."
            )
            return render_template("hr/exam_form.html", form=form, exam=exam), 400
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
        flash("已保存。 Saved.", "success")
        return redirect(url_for("hr.exam_detail", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "hr/exam_form.html", form=form, exam=exam, scoring_fixed=is_frozen(exam.id)
    ), status


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
    )


@bp.post("/exams/<int:exam_id>/close-entry")
def close_entry(exam_id: int):
    exam = g.exam
    try:
        changed = close_entry_now(exam.id, current_user._get_current_object())
    except ExamDayError as problem:
        flash(problem.message, "error")
    else:
        flash(
            f"已截止入场，{changed} 位考生的状态随之更新（未入场者记为缺考，未抽签者已分配签号）。"
            f" Entry closed; {changed} candidates updated.",
            "success",
        )
    return redirect(url_for("hr.exam_detail", exam_id=exam.id), 303)
