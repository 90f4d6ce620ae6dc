import re
from pathlib import Path

import pytest

from app import create_app, db
from app.redis_conn import close_redis

TEMPLATES = Path(__file__).resolve().parent.parent / "app" / "templates"


def test_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "script-src 'self' https://meet.jit.si" in csp  # dev mode: the public Jitsi
    assert "frame-src https://meet.jit.si" in csp and "frame-ancestors 'none'" in csp
    assert 'camera=(self "https://meet.jit.si")' in response.headers["Permissions-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_scripts_and_styles_go_without_the_document_policies(app, client):
    # They are under the policy of the page that loads them; an SVG or an error page is a
    # document of its own and keeps them. nosniff stays on everything.
    with app.test_request_context():
        from flask import url_for

        urls = {
            name: url_for("static", filename=name)
            for name in ("js/htmx.min.js", "css/app.css", "favicon.svg")
        }
    for name in ("js/htmx.min.js", "css/app.css"):
        response = client.get(urls[name])
        assert response.status_code == 200
        assert "Content-Security-Policy" not in response.headers, name
        assert "Permissions-Policy" not in response.headers, name
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()
    svg = client.get(urls["favicon.svg"])
    assert "default-src 'self'" in svg.headers["Content-Security-Policy"]
    svg.close()
    missing = client.get("/static/js/nothing-here.js")
    assert missing.status_code == 404 and "Content-Security-Policy" in missing.headers


def test_hsts_behind_https(client):
    response = client.get("/", base_url="https://interview.example.org")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_csp_names_the_configured_jitsi_domain(config_class, _schema):
    class Hosted(config_class):
        JITSI_DOMAIN = "meet.example.org"
        JITSI_APP_ID = "interview-room"
        JITSI_APP_SECRET = "0123456789abcdef" * 2  # the app refuses to start without one

    app = create_app(Hosted)
    with app.app_context():
        response = app.test_client().get("/healthz")
        db.session.remove()
        db.engine.dispose()
    close_redis(app)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://meet.example.org" in csp
    assert "frame-src https://meet.example.org" in csp and "meet.jit.si" not in csp


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_have_no_inline_script_or_style(template):
    """The CSP forbids inline code: a template that relies on it breaks in the browser."""
    html = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\sstyle=", html), "style= attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert "<style" not in html, "<style> element"


def test_session_cookie_is_httponly_and_samesite(client):
    # The code page puts the CSRF token in the session, so the first visit sets the cookie.
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_when_configured(config_class, _schema):
    class Https(config_class):
        SESSION_COOKIE_SECURE = True

    app = create_app(Https)
    with app.app_context():
        cookie = (
            app.test_client()
            .get("/", base_url="https://interview.example.org")
            .headers["Set-Cookie"]
        )
        db.session.remove()
        db.engine.dispose()
    close_redis(app)
    assert "Secure" in cookie and "HttpOnly" in cookie
