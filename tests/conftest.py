"""Shared fixtures: the app on a real database (PostgreSQL or SQLite) and a real Redis.

TEST_DATABASE_URL picks the database (`make test` runs the suite once on each, both at once); the
schema is built by the migrations, once per run, so tests also prove that the migrations match
the models. The app is built once per run; each test empties the tables afterwards and starts on
a flushed Redis database (13 in the PostgreSQL pass, 14 in the SQLite pass; TEST_REDIS_URL wins).
"""

import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app, db
from app.config import Config, database_url
from app.redis_conn import close_redis, get_redis
from app.security.limits import limiter
from tests.factories import gen_exam, gen_user  # noqa: F401  (still importable from here)

ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres")
# `make test` runs the two passes at once, each on a Redis database of its own.
TEST_REDIS_URL = os.environ.get(
    "TEST_REDIS_URL", f"redis://127.0.0.1:6379/{13 if ON_POSTGRES else 14}"
)
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Browser, deploy, bench and script tests test Chromium, nginx and shell scripts, not the
    database: they run in the PostgreSQL pass only (tests/e2e by folder, others by marker)."""
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="not a database test: run in the PostgreSQL pass only")
    for item in items:
        if HERE / "e2e" in item.path.parents or item.get_closest_marker("postgres_pass"):
            item.add_marker(skip)


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


@pytest.fixture(scope="session")
def _session_app(config_class, _schema):
    """The app, built once: compiling its routes and templates per test cost more than most
    tests. Tests that need another configuration build their own with create_app."""
    return built_once(config_class)


def built_once(config) -> tuple:
    """An app for a whole run, with what `isolated` restores before each test."""
    app = create_app(config)
    app.test_client_class = IsolatedClient
    # Flask-Limiter is one object for every app: create_app(Other) in a test points its storage
    # at Other's Redis; each test starts from this app's.
    return app, dict(vars(limiter))


@contextmanager
def isolated(built):
    """One test on a shared app: a flushed Redis first; afterwards empty tables, and the
    configuration a test changed for itself (a smaller upload limit, CSRF off, a dead Redis)
    put back."""
    app, limiter_state = built
    config = dict(app.config)
    redis_url = app.extensions["redis_url"]
    vars(limiter).clear()
    vars(limiter).update(limiter_state)
    with app.app_context():
        get_redis().flushdb()
        try:
            yield app
        finally:
            db.session.remove()
            _empty_all_tables()
            db.engine.dispose()
            close_redis(app)
            app.config.clear()
            app.config.update(config)
            app.extensions["redis_url"] = redis_url


@pytest.fixture(scope="session")
def _hosted_app(config_class, _schema):
    """tests/jitsi_world.py's selfhosted-mode app, built once too (defined here, where every
    module that imports its `hosted` fixture finds it)."""
    from tests.jitsi_world import hosted_config_of

    return built_once(hosted_config_of(config_class))


@pytest.fixture
def app(_session_app):
    with isolated(_session_app) as app:
        yield app


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


def csrf_token_of(client) -> str:
    """The CSRF token of the client's session (signed in or not), from the page it lands on."""
    page = client.get("/staff/login", follow_redirects=True)
    return csrf_token_from(page.get_data(as_text=True))


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
        return self._client.post(
            "/staff/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))}
        )


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


def app_with(config_class, **overrides):
    """A second app on the same database and Redis number, with some settings changed (e.g. a
    Redis that is down or hung); release it with `release_app` when the test is done."""
    config = type("OverriddenConfig", (config_class,), overrides)
    other = create_app(config)
    other.test_client_class = IsolatedClient
    return other


def release_app(other) -> None:
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
    close_redis(other)


def signed_in_staff(app, username: str):
    """A new browser (test client) with `username` signed in through the login form."""
    client = app.test_client()
    assert StaffActions(client).login(username).status_code == 302
    return client


@pytest.fixture
def staff(client):
    return StaffActions(client)
