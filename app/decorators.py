"""Access guards for staff pages (Flask-Security naming).

Not signed in -> the login page (for htmx requests an HX-Redirect, so a login form is never
swapped into a fragment); signed in with the wrong role -> 403.
"""

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_htmx import make_response
from flask_login import current_user

from app import htmx


def full_page_redirect(target: str, code: int = 302):
    """A redirect of the whole page: HX-Redirect for htmx (which ignores HX-* headers on a 3xx
    and would swap the target page into the fragment), a plain redirect otherwise."""
    if htmx:
        return make_response("", 200, redirect=target)
    return redirect(target, code)


def login_redirect():
    """Where an anonymous staff request goes."""
    return full_page_redirect(
        url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    )


def check_roles(*roles: str):
    """None when the current user may go on, else the response that refuses them."""
    if not current_user.is_authenticated:
        return login_redirect()
    if current_user.role not in roles:
        abort(403)
    return None


def roles_accepted(*roles: str):
    """Any one of `roles` lets the staff member in."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            refusal = check_roles(*roles)
            if refusal is not None:
                return refusal
            return view(*args, **kwargs)

        return wrapped

    return decorator


def guard_blueprint(blueprint, *roles: str) -> None:
    """Guard a whole staff blueprint, so that a forgotten decorator leaks nothing."""

    @blueprint.before_request
    def _guard():
        return check_roles(*roles)
