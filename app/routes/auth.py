"""Staff sign-in and sign-out."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app import audit, db
from app import login as login_manager
from app.i18n import DEFAULT_LOCALE, LANGUAGES, SESSION_KEY, refresh_language
from app.models import Role, User
from app.security import sign_in

bp = Blueprint("auth", __name__, url_prefix="/staff")

HOME_BY_ROLE = {
    Role.ADMIN: "admin.users",
    Role.HR: "hr.exams",
    Role.ASSISTANT: "assistant.home",
    Role.EXAMINER: "examiner.home",
    Role.SUPERVISOR: "supervisor.home",
}


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session holds "id:session_version" (User.get_id): signing out, a password change or
    disabling the account bump the version, and every copy of an older cookie is refused."""
    user = User.from_session_id(user_id)
    # A disabled account is signed out at its next request, not at its next sign-in.
    return user if user is not None and user.active else None


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Sign in"))


def home_url_for(user: User) -> str:
    return url_for(HOME_BY_ROLE.get(Role(user.role), "auth.login"))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: an absolute URL in ?next= would be an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.netloc or parts.scheme or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = db.session.scalar(db.select(User).filter_by(username=username))
        known = user is not None and user.id in sign_in.known_accounts()
        spent = sign_in.spent_budget(username, known_browser=known)
        if spent is not None:
            # Before the password is checked: a refusal says nothing about whether it was right.
            flash(spent.refused.message, "error")
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(spent.retry_after)}
        if user is None or not user.check_password(form.password.data) or not user.active:
            audit.record("staff.login_failed", username=username[:64])
            if sign_in.count_failure(username):
                audit.record(
                    "staff.login_locked", username=username[:64], minutes=sign_in.lock_minutes()
                )
            db.session.commit()
            flash(_("Wrong username or password, or account disabled."), "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user)
        audit.record("staff.login", actor=user)
        db.session.commit()
        response = redirect(safe_next(request.args.get("next")) or home_url_for(user))
        sign_in.remember_browser(response, user.id)
        return response
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Every copy of this session's cookie dies with it (and the user's other sessions).
        current_user.revoke_sessions()
        audit.record("staff.logout")
        db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """The staff pages' language: kept on the account once signed in, in the session before."""
    chosen = request.form.get("language", "")
    if chosen not in LANGUAGES:
        flash(_("Unknown language."), "error")
    elif current_user.is_authenticated:
        if current_user.language != chosen:
            before = current_user.language or DEFAULT_LOCALE
            current_user.language = chosen
            audit.record("staff.language_changed", before=before, after=chosen)
            db.session.commit()
    else:
        session[SESSION_KEY] = chosen
    refresh_language()
    back = safe_next(request.form.get("next"))
    if back is None and current_user.is_authenticated:
        back = home_url_for(current_user)
    return redirect(back or url_for("auth.login"))
