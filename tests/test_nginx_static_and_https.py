"""The real nginx site (issue 18, deliverable 5): gzip for text, HSTS on every HTTPS answer (and
once), fingerprinted static files kept a year and the others an hour."""

import gzip
import hashlib
import os
import shutil
import ssl
from http.client import HTTPConnection, HTTPSConnection

import pytest

from app.static_files import FINGERPRINT_LENGTH
from tests.nginx_site import ROOT, SITE, running_site

pytestmark = [
    pytest.mark.postgres_pass,  # tests/conftest.py: not a database test
    pytest.mark.skipif(
        shutil.which("nginx") is None and not os.environ.get("DEPLOY_CHECKS_REQUIRED"),
        reason="nginx is not installed here (.ci/run installs nginx-light)",
    ),
]

STATIC = ROOT / "app" / "static"
HSTS = "max-age=31536000; includeSubDomains"


@pytest.fixture
def site(tmp_path):
    with running_site(tmp_path) as ports:
        yield ports


def _get(site, path, **headers):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = HTTPSConnection("127.0.0.1", site.https, context=context, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "interview.example.org", **headers})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def _fingerprint(relative: str) -> str:
    return hashlib.sha256((STATIC / relative).read_bytes()).hexdigest()[:FINGERPRINT_LENGTH]


def test_the_site_says_http2_the_current_way():
    directives = [line.split("#")[0].strip() for line in SITE.read_text().splitlines()]
    assert "http2 on;" in directives
    assert "listen 443 ssl;" in directives
    assert not [line for line in directives if line.startswith("listen") and "http2" in line]


@pytest.mark.parametrize("relative", ["css/app.css", "js/htmx.min.js", "favicon.svg"])
def test_a_fingerprinted_static_file_is_kept_a_year(site, relative):
    response, body = _get(site, f"/static/{relative}?v={_fingerprint(relative)}")
    assert response.status == 200
    assert body == (STATIC / relative).read_bytes()
    assert response.headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("query", ["", "?v=", "?v=not-a-hash", "?v=0123456789abcdef"])
def test_an_unfingerprinted_static_url_still_works_for_an_hour(site, query):
    response, body = _get(site, f"/static/css/app.css{query}")
    assert response.status == 200
    assert body == (STATIC / "css" / "app.css").read_bytes()
    assert response.headers.get_all("Cache-Control") == ["public, max-age=3600"]


@pytest.mark.parametrize(
    ("relative", "content_type"),
    [("css/app.css", "text/css"), ("js/htmx.min.js", "application/javascript")],
)
def test_text_static_files_are_gzipped(site, relative, content_type):
    response, body = _get(site, f"/static/{relative}", **{"Accept-Encoding": "gzip"})
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(body) == (STATIC / relative).read_bytes()
    plain, _ = _get(site, f"/static/{relative}")
    assert plain.headers["Content-Encoding"] is None  # a client that did not ask gets it as is


def test_the_apps_json_is_gzipped_and_hsts_sent_once(site):
    response, body = _get(site, "/healthz?pad=4000", **{"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b'"padding"' in gzip.decompress(body)
    # The stand-in sends HSTS as the app does behind HTTPS: the browser sees nginx's only.
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]


def test_hsts_on_nginx_own_answers_too_and_never_over_http(site):
    response, _ = _get(site, "/metrics")
    assert response.status == 404
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    conn = HTTPConnection("127.0.0.1", site.http, timeout=10)
    try:
        conn.request("GET", "/staff/login", headers={"Host": "interview.example.org"})
        redirect = conn.getresponse()
        redirect.read()
    finally:
        conn.close()
    assert redirect.status == 301
    assert redirect.headers["Location"] == "https://interview.example.org/staff/login"
    assert redirect.headers["Strict-Transport-Security"] is None  # RFC 6797: HTTPS only
