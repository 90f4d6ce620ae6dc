"""Shared fixtures: the app on a real database (PostgreSQL or SQLite) and a real Redis.

TEST_DATABASE_URL picks the database (`make test` runs the suite once on each); the schema is
built by the migrations, once per run, so tests also prove that the migrations match the models.
Redis is the real server on its own database number, flushed between tests.
"""

import os
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from app import create_app, db
from app.config import Config, database_url
from app.redis_conn import close_redis, get_redis
from app.models import Exam, ExamKind, Role, User
from app.timeutil import utcnow

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _test_database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _recreate_postgres_database(url: str) -> None:
    engine_url = sa.make_url(url)
    admin = sa.create_engine(engine_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{engine_url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{engine_url.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory):
    url = _test_database_url(tmp_path_factory)
    if url.startswith("postgresql"):
        _recreate_postgres_database(url)
    return url


@pytest.fixture(scope="session")
def config_class(database_uri, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")

    class TestConfig(Config):
        TESTING = True
        SECRET_KEY = "test-secret-key"
        SQLALCHEMY_DATABASE_URI = database_uri
        REDIS_URL = TEST_REDIS_URL
        INSTANCE_PATH = str(instance)
        RECORDINGS_DIR = str(instance / "recordings")
        JITSI_DOMAIN = None

    return TestConfig


@pytest.fixture(scope="session")
def _schema(config_class):
    app = create_app(config_class)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return True


def _empty_all_tables() -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        # TRUNCATE skips the audit log's row triggers, which refuse DELETE on purpose.
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
    db.session.commit()


class IsolatedClient(FlaskClient):
    """Each request in an app context of its own, as in production.

    Tests keep an app context open for their own queries; without this, every request would
    share it, and with it `g` (Flask-WTF caches the CSRF token there) and the database session.
    Afterwards the test's own session forgets what it loaded, so it sees what the request wrote.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app(config_class, _schema):
    app = create_app(config_class)
    app.test_client_class = IsolatedClient
    with app.app_context():
        get_redis().flushdb()
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()
        close_redis(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


class StaffActions:
    """Sign staff in and out through the real login form (CSRF included)."""

    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = "correct horse battery"):
        page = self._client.get("/staff/login")
        token = csrf_token_from(page.get_data(as_text=True))
        return self._client.post(
            "/staff/login",
            data={"username": username, "password": password, "csrf_token": token},
        )

    def logout(self):
        page = self._client.get("/staff/login", follow_redirects=True)
        return self._client.post("/staff/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


def at_once(app, n: int, action) -> list:
    """Run `action(i)` for i in 0..n-1 in n threads released together, each in its own app
    context and database session (two staff clicking at the same moment); return what each
    returned, or the exception it raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = action(i)
            except Exception as error:  # the caller asserts on it
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def signed_in_staff(app, username: str):
    """A new browser (test client) with `username` signed in through the login form."""
    client = app.test_client()
    assert StaffActions(client).login(username).status_code == 302
    return client


@pytest.fixture
def staff(client):
    return StaffActions(client)


# --- factories (CTFd's gen_* helpers) ---------------------------------------------------------


def gen_user(username: str, role: str = Role.HR, password: str = "correct horse battery", **kw) -> User:
    user = User(username=username, display_name=kw.pop("display_name", username), role=role, **kw)
    # A cheap hash keeps the suite fast; production hashing is User.set_password (scrypt).
    user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
    db.session.add(user)
    db.session.commit()
    return user


def gen_exam(name: str = "2026年事业单位面试", kind: str = ExamKind.FORMAL, **kw) -> Exam:
    now = utcnow()
    exam = Exam(
        name=name,
        kind=kind,
        login_opens_at=kw.pop("login_opens_at", now - timedelta(hours=1)),
        login_closes_at=kw.pop("login_closes_at", now + timedelta(hours=8)),
        **kw,
    )
    db.session.add(exam)
    db.session.commit()
    return exam
