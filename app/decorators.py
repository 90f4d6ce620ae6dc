"""Access guards for staff pages (Flask-Security naming).

Not signed in -> the login page (for htmx requests an HX-Redirect, so a login form is never
swapped into a fragment); signed in with the wrong role -> 403.
"""

from functools import wraps

from flask import abort, g, redirect, request, url_for
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


# The methods a read-only visitor may use: they look, and never change anything.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def guard_blueprint(blueprint, *roles: str, read_only_roles: tuple[str, ...] = ()) -> None:
    """Guard a whole staff blueprint, so that a forgotten decorator leaks nothing.

    `read_only_roles` (the 巡考) may look at every page the blueprint shows but write nothing:
    `g.read_only` is set for them (templates hide the buttons) and every other method is 403.
    """

    @blueprint.before_request
    def _guard():
        refusal = check_roles(*roles, *read_only_roles)
        if refusal is not None:
            return refusal
        if current_user.role in read_only_roles and current_user.role not in roles:
            g.read_only = True
            if request.method not in READ_METHODS:
                abort(403)
        return None
