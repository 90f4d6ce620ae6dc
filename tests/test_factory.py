import os
import re

import pytest

from app import create_app
from app.config import Config, database_url


@pytest.fixture(autouse=True)
def _development(monkeypatch):
    """These plain configs are `make run`'s: development (production refuses them)."""
    monkeypatch.setenv("INTERVIEW_ROOM_ENV", "development")


def test_testing_config_is_applied(app):
    assert app.testing
    # Idle connections are pinged before use (app/db_ping.py, tests/test_db_ping.py).
    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_default_config_is_not_testing_and_so_is_held_to_production_rules(tmp_path, monkeypatch):
    class Plain(Config):
        INSTANCE_PATH = str(tmp_path)
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'x.db'}"

    monkeypatch.delenv("INTERVIEW_ROOM_ENV", raising=False)
    with pytest.raises(SystemExit) as refused:
        create_app(Plain)
    assert refused.value.code == 2
    monkeypatch.setenv("INTERVIEW_ROOM_ENV", "development")  # what `make run` sets
    assert not create_app(Plain).testing


def test_postgres_urls_are_driven_by_psycopg3():
    assert database_url("postgresql://u@h:5432/d") == "postgresql+psycopg://u@h:5432/d"
    assert database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url(None).startswith("sqlite:///") and database_url(None).endswith(
        "interview-room.db"
    )


def test_secret_key_is_made_once_per_instance_and_kept(tmp_path):
    class NoKey(Config):
        SECRET_KEY = None
        INSTANCE_PATH = str(tmp_path)
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'x.db'}"

    first = create_app(NoKey).config["SECRET_KEY"]
    second = create_app(NoKey).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert oct(os.stat(tmp_path / "secret_key").st_mode & 0o777) == "0o600"


def test_proxy_fix_only_when_configured(tmp_path):
    class BehindNginx(Config):
        INSTANCE_PATH = str(tmp_path)
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'x.db'}"
        PROXY_COUNT = 1

    app = create_app(BehindNginx)

    @app.get("/ip")
    def ip():
        from flask import request

        return request.remote_addr

    response = app.test_client().get("/ip", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.get_data(as_text=True) == "203.0.113.9"


def test_static_htmx_is_served_locally(client):
    response = client.get("/static/js/htmx.min.js")
    assert response.status_code == 200
    assert b"htmx" in response.data[:200]
    response.close()


def test_pages_load_htmx_from_the_app_not_a_cdn(client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'src="/static/js/htmx\.min\.[0-9a-f]{12}\.js"', html)
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert '"includeIndicatorStyles": false' in html
