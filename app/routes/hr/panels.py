"""HR's panels (考场): creating one, naming it, staffing it with examiners and assistants."""

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from app import audit, db
from app.models import Panel, PanelRole, Role, User
from app.routes.hr.blueprints import bp
from app.routes.hr.forms import NO_CHOICE, PanelForm, PanelStaffForm
from app.routes.hr.lookups import child_or_404
from app.setup.codes import CodeSpaceFull
from app.setup.panels import (
    create_panel,
    examiners_on_other_panels,
    panel_name_taken,
    set_panel_staff,
)


@bp.route("/exams/<int:exam_id>/panels/new", methods=["GET", "POST"])
def new_panel(exam_id: int):
    exam = g.exam
    form = PanelForm()
    if form.validate_on_submit():
        name = form.name.data.strip()
        if panel_name_taken(exam, name):
            form.name.errors.append(_("A panel of this exam has this name."))
        else:
            try:
                panel = create_panel(exam, name)
            except CodeSpaceFull as error:  # its rest-room code: nothing was made
                db.session.rollback()
                form.name.errors.append(str(error))
                return render_template("hr/panel_new.html", form=form, exam=exam), 400
            db.session.commit()
            flash(
                _("%(name)s created: now assign its examiners and assistants.", name=name),
                "success",
            )
            return redirect(url_for("hr.edit_panel", exam_id=exam.id, panel_id=panel.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/panel_new.html", form=form, exam=exam), status


def _active_staff(role: str) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == role, User.active.is_(True)).order_by(User.display_name)
        )
    )


def _staff_label(user: User) -> str:
    return f"{user.display_name} ({user.username})"


@bp.route("/exams/<int:exam_id>/panels/<int:panel_id>", methods=["GET", "POST"])
def edit_panel(exam_id: int, panel_id: int):
    exam = g.exam
    panel = child_or_404(Panel, panel_id)
    examiners, assistants = _active_staff(Role.EXAMINER), _active_staff(Role.ASSISTANT)
    current = {
        "name": panel.name,
        "examiners": [m.user_id for m in panel.members if m.role == PanelRole.EXAMINER],
        "assistants": [m.user_id for m in panel.members if m.role == PanelRole.ASSISTANT],
        "chief": panel.chief_examiner_id or 0,
    }
    form = PanelStaffForm(data=current)
    form.examiners.choices = [SelectChoice(str(u.id), _staff_label(u)) for u in examiners]
    form.assistants.choices = [SelectChoice(str(u.id), _staff_label(u)) for u in assistants]
    form.chief.choices = [NO_CHOICE, *list(form.examiners.choices)]
    if form.validate_on_submit():
        name = form.name.data.strip()
        busy_elsewhere = examiners_on_other_panels(panel, form.examiners.data)
        if panel_name_taken(exam, name, panel):
            form.name.errors.append(_("A panel of this exam has this name."))
        elif busy_elsewhere:
            form.examiners.errors.append(
                _(
                    "These examiners already sit on another panel of this exam: %(names)s",
                    names="、".join(busy_elsewhere),
                )
            )
        else:
            users = {u.id: u for u in examiners + assistants}
            try:
                set_panel_staff(
                    panel,
                    [users[i] for i in form.examiners.data],
                    [users[i] for i in form.assistants.data],
                    users.get(form.chief.data),
                )
            except ValueError as error:
                db.session.rollback()
                form.examiners.errors.append(str(error))
            else:
                if name != panel.name:
                    audit.record(
                        "panel.renamed",
                        exam_id=exam.id,
                        panel=panel.id,
                        before={"name": panel.name},
                        after={"name": name},
                    )
                    panel.name = name
                db.session.commit()
                flash(_("%(name)s saved.", name=panel.name), "success")
                return redirect(url_for("hr.exam_detail", exam_id=exam.id))
    status = 400 if form.is_submitted() else 200
    return render_template("hr/panel_form.html", form=form, exam=exam, panel=panel), status
