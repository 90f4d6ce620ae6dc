"""Interview Room: online structured interviews (结构化面试)."""

# The one place the version is written: pyproject.toml reads it from here, staff pages' footer
# and /healthz show it, CHANGELOG.md says what each one brought (tests/test_version.py).
# Between releases it is the next release's number with .dev0 (PEP 440).
__version__ = "0.6.0.dev0"

import logging
import os
import secrets
import time
from pathlib import Path

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import INSTANCE_DIR, Config

# Named constraints make Alembic migrations identical on PostgreSQL and SQLite, and let
# batch mode on SQLite find the constraint it has to drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _SQLAlchemy(SQLAlchemy):
    def _teardown_session(self, exc: BaseException | None) -> None:
        """The response is already made: a connection that died meanwhile (PostgreSQL restarted,
        a failover) must not fail it on the rollback at the end. The session is dropped, the
        pool replaces the connection (app/db_ping.py), and the log says what happened."""
        try:
            self.session.remove()
        except SQLAlchemyError as error:
            logging.getLogger(__name__).warning(
                "teardown: the database connection failed during the rollback: %s", error
            )
            try:
                self.session().invalidate()
            except SQLAlchemyError:
                pass
            self.session.registry.clear()


db = _SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
login.login_view = "auth.login"
login.login_message = _l("Please sign in.")
login.localize_callback = str  # flashed into the session: text in the request's language
csrf = CSRFProtect()
htmx = HTMX()


def create_app(config_class: type = Config) -> Flask:
    app = Flask(__name__, instance_path=str(getattr(config_class, "INSTANCE_PATH", INSTANCE_DIR)))
    app.config.from_object(config_class)
    from app import production_settings
    from app.jitsi.tokens import check_at_start

    production_settings.check_at_start(app.config)  # fail closed: names each missing setting
    check_at_start(app.config)  # a wrong JITSI_* setting stops the start, not a console later
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
    from app.day.poll_lane import install_poll_lane

    install_poll_lane(app)  # inside ProxyFix, below: the lane sees the client's scheme
    if app.config.get("PROXY_COUNT"):
        n = app.config["PROXY_COUNT"]
        # X-Forwarded-Prefix moves every URL the app makes (redirects, forms, invitation
        # letters): taken only when the deployment mounts the app under a path and says so.
        # X-Forwarded-Port is never taken (x_port=0): nginx's Host already carries the port.
        prefix = n if app.config.get("PROXY_PREFIX") else 0
        # Flask documents wrapping wsgi_app this way; its stubs declare it a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=prefix
        )

    from app.request_log import init_request_log

    init_request_log(app)  # first: every later hook's log lines carry the request id

    from app.security.input_guard import init_input_guard

    init_input_guard(app)  # before any route: it is the app's `int` converter
    db.init_app(app)
    with app.app_context():
        from app.db_ping import ping_when_idle

        for engine in db.engines.values():
            ping_when_idle(engine)
    migrate.init_app(app, db, render_as_batch=True)
    login.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)

    from app.i18n import init_i18n

    init_i18n(app)

    from app import models  # noqa: F401  (registers the tables)
    from app.redis_conn import init_redis

    init_redis(app)

    from app.security.limits import init_rate_limits

    init_rate_limits(app)

    from app.routes import register_blueprints

    register_blueprints(app)

    from app.metrics import init_metrics

    init_metrics(app)

    from app.static_files import init_static_files

    init_static_files(app)  # every url_for('static') carries its content's fingerprint

    from app.templating import init_templating

    init_templating(app)

    from app.errors import init_errors

    init_errors(app)

    from app.security.headers import init_security

    init_security(app)

    from app.compression import init_compression

    # Registered last, so its after_request hook runs first (Flask runs them in reverse): the
    # others only add headers, and the request log's and metrics' durations include compressing.
    init_compression(app)

    from app.cli import register_cli

    register_cli(app)
    return app


def _instance_secret_key(instance: Path) -> str:
    """A key made once per installation, so `make run` needs no setup and restarts keep sessions.

    Several gunicorn workers start at once: O_EXCL makes exactly one of them write the file and
    the others read what it wrote.
    """
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it or set SECRET_KEY") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
