"""Error pages: a clear sentence (in the reader's language) instead of a stack trace."""

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError

from app import db, htmx

MESSAGES = {
    400: _l("Bad request."),
    403: _l("You may not open this page."),
    404: _l("Page not found."),
    405: _l("Method not allowed."),
    413: _l("The file is too large."),
    429: _l("Too many attempts, please wait."),
    500: _l("Server error; nothing was lost, please retry."),
}


def _render(code: int, message: str | None = None):
    message = message or str(MESSAGES.get(code, ""))
    if htmx:
        return f'<div class="flash flash-error" role="alert">{message}</div>', code
    return render_template("errors/error.html", code=code, message=message), code


def init_errors(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, lambda e, code=code: _render(code))

    @app.errorhandler(429)
    def _too_many(error):
        # Flask-Limiter puts the limit's own message (Chinese for candidates) in the description.
        description = getattr(error, "description", None)
        return _render(429, description if isinstance(description, str) and description else None)

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return _render(400, _("The page expired: reload and try again."))

    @app.errorhandler(500)
    def _server_error(error):
        try:
            db.session.rollback()
        except SQLAlchemyError:  # a dead connection must not turn this page into a bare 500
            db.session().invalidate()
        return _render(500)
