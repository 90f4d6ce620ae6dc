"""HR's notices (考试附件): what candidates read and acknowledge before the exam."""

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import audit, db
from app.models import Notice, NoticeAck
from app.routes.hr.blueprints import bp
from app.routes.hr.forms import NoticeForm, plain_text
from app.routes.hr.lookups import child_or_404
from app.setup.notices import notice_deletable, notice_snapshot


@bp.get("/exams/<int:exam_id>/notices")
def notices(exam_id: int):
    exam = g.exam
    acks = dict(
        db.session.execute(
            select(NoticeAck.notice_id, func.count())
            .join(Notice, Notice.id == NoticeAck.notice_id)
            .where(Notice.exam_id == exam.id)
            .group_by(NoticeAck.notice_id)
        ).all()
    )
    return render_template("hr/notices.html", exam=exam, notices=exam.notices, acks=acks)


@bp.route("/exams/<int:exam_id>/notices/new", methods=["GET", "POST"])
def new_notice(exam_id: int):
    exam = g.exam
    form = NoticeForm()
    if form.validate_on_submit():
        notice = Notice(
            exam_id=exam.id,
            title=form.title.data.strip(),
            body=plain_text(form.body.data),
            position=form.position.data,
        )
        db.session.add(notice)
        db.session.flush()
        audit.record(
            "notice.created", exam_id=exam.id, notice=notice.id, after=notice_snapshot(notice)
        )
        db.session.commit()
        flash(_("Notice added."), "success")
        return redirect(url_for("hr.notices", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/notice_form.html", form=form, exam=exam, notice=None), status


@bp.route("/exams/<int:exam_id>/notices/<int:notice_id>", methods=["GET", "POST"])
def edit_notice(exam_id: int, notice_id: int):
    exam = g.exam
    notice = child_or_404(Notice, notice_id)
    form = NoticeForm(obj=notice)
    if form.validate_on_submit():
        before = notice_snapshot(notice)
        notice.title = form.title.data.strip()
        notice.body = plain_text(form.body.data)
        notice.position = form.position.data
        audit.record(
            "notice.updated",
            exam_id=exam.id,
            notice=notice.id,
            before=before,
            after=notice_snapshot(notice),
        )
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("hr.notices", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/notice_form.html", form=form, exam=exam, notice=notice), status


@bp.post("/exams/<int:exam_id>/notices/<int:notice_id>/delete")
def delete_notice(exam_id: int, notice_id: int):
    exam = g.exam
    notice = child_or_404(Notice, notice_id)
    if not notice_deletable(notice):
        flash(
            _("Candidates have read this notice: it cannot be deleted (it can be edited)."),
            "error",
        )
        return redirect(url_for("hr.notices", exam_id=exam.id))
    audit.record(
        "notice.deleted", exam_id=exam.id, notice=notice.id, before=notice_snapshot(notice)
    )
    db.session.delete(notice)
    db.session.commit()
    flash(_("Deleted."), "success")
    return redirect(url_for("hr.notices", exam_id=exam.id))
