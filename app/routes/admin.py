"""Admin: staff accounts and their roles."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app import audit, db
from app.decorators import guard_blueprint
from app.models import Role, User
from app.security import sign_in

bp = Blueprint("admin", __name__, url_prefix="/admin")
guard_blueprint(bp, Role.ADMIN)

# The role as staff read it here (models' ROLE_LABELS keep their glued words for other pages).
ROLE_NAMES = {
    Role.ADMIN: _l("Administrator"),
    Role.HR: _l("HR / exam office"),
    Role.ASSISTANT: _l("Interview assistant"),
    Role.EXAMINER: _l("Examiner"),
    Role.SUPERVISOR: _l("Supervisor"),
}
ROLE_CHOICES = [SelectChoice(role.value, ROLE_NAMES[role]) for role in Role]


class StaffForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("letters, digits, . _ - only")),
        ],
    )
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=200)])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


@bp.get("/staff")
def users():
    staff = db.session.scalars(db.select(User).order_by(User.role, User.username)).all()
    locked = {user.id for user in staff if sign_in.account_locked(user.username)}
    return render_template("admin/users.html", staff=staff, locked=locked, role_names=ROLE_NAMES)


@bp.post("/staff/<int:user_id>/unlock-sign-in")
def unlock_sign_in(user_id: int):
    """Lift the per-account lock (too many wrong passwords from anywhere) once the owner is
    reached and the attack understood; the other budgets stay."""
    user = db.session.get(User, user_id) or abort(404)
    sign_in.unlock_account(user.username)
    audit.record("staff.login_unlocked", target_user=user.id, username=user.username)
    db.session.commit()
    flash(_("Sign-in unlocked for %(name)s.", name=user.username), "success")
    return redirect(url_for("admin.users"))


@bp.route("/staff/new", methods=["GET", "POST"])
def new_user():
    form = StaffForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        if not form.password.data:
            form.password.errors.append(_("A new account needs a password (8+ characters)."))
        elif db.session.scalar(db.select(User.id).filter_by(username=username)):
            form.username.errors.append(_("This username is taken."))
        else:
            user = User(
                username=username,
                display_name=form.display_name.data.strip(),
                role=form.role.data,
                active=form.active.data,
            )
            user.set_password(form.password.data)
            db.session.add(user)
            db.session.flush()
            audit.record("staff.created", target_user=user.id, username=username, role=user.role)
            db.session.commit()
            flash(_("Account %(name)s created.", name=username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = StaffForm(obj=user)
    if form.validate_on_submit():
        if user.id == current_user.id and (not form.active.data or form.role.data != Role.ADMIN):
            # Otherwise the last admin can lock everyone out of staff management.
            flash(_("You cannot disable or demote yourself."), "error")
            return render_template("admin/user_form.html", form=form, user=user), 400
        username = form.username.data.strip()
        clash = db.session.scalar(
            db.select(User.id).filter(User.username == username, User.id != user.id)
        )
        if clash:
            form.username.errors.append(_("This username is taken."))
            return render_template("admin/user_form.html", form=form, user=user), 400
        before = {"username": user.username, "role": user.role, "active": user.active}
        user.username = username
        user.display_name = form.display_name.data.strip()
        user.role = form.role.data
        if user.active and not form.active.data:
            user.revoke_sessions()  # re-enabling the account later must not revive them
        user.active = form.active.data
        if form.password.data:
            user.set_password(form.password.data)
        after = {"username": user.username, "role": user.role, "active": user.active}
        audit.record(
            "staff.updated",
            target_user=user.id,
            before=before,
            after=after,
            password_changed=bool(form.password.data),
        )
        db.session.commit()
        if user.id == current_user.id:
            login_user(user)  # a new password signs out the others, not this admin
        flash(_("Saved %(name)s.", name=user.username), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)
