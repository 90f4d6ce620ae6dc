"""The real nginx site (issue 18, deliverable 5): gzip for text, HSTS on every HTTPS answer (and
once), static files with a fingerprint in the name kept a year and the others an hour."""

import gzip
import hashlib
import os
import shutil
import ssl
from http.client import HTTPConnection, HTTPSConnection

import pytest

from app.static_files import FINGERPRINT_LENGTH, FINGERPRINTED, fingerprinted_name
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


def _named(relative: str) -> str:
    """The URL the app makes for the file (app/static_files.py)."""
    named = fingerprinted_name(relative, _fingerprint(relative))
    assert named is not None
    return f"/static/{named}"


def test_the_site_and_the_app_read_a_fingerprinted_name_alike():
    # The app's pattern is nginx's, anchored on `/static/` there and without the capture of
    # the fingerprint (nginx serves whatever fingerprint it is given).
    nginx = (
        FINGERPRINTED.pattern.replace(
            f"(?P<digest>[0-9a-f]{{{FINGERPRINT_LENGTH}}})", "[0-9a-f]{12}"
        )
        .replace("(?P<", "(?<")
        .replace("^", "^/static/", 1)
    )
    assert f'location ~ "{nginx}" {{' in SITE.read_text()
    assert "$arg_v" not in SITE.read_text()


def test_the_site_says_http2_the_current_way():
    directives = [line.split("#")[0].strip() for line in SITE.read_text().splitlines()]
    assert "http2 on;" in directives
    assert "listen 443 ssl;" in directives
    assert not [line for line in directives if line.startswith("listen") and "http2" in line]


@pytest.mark.parametrize(
    "relative",
    ["css/app.css", "js/htmx.min.js", "js/candidate.js", "favicon.svg", "js/htmx.LICENSE"],
)
def test_a_fingerprinted_static_file_is_kept_a_year(site, relative):
    response, body = _get(site, _named(relative))
    assert response.status == 200
    assert body == (STATIC / relative).read_bytes()
    assert response.headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_type_is_the_real_files(site):
    response, _ = _get(site, _named("js/htmx.min.js"))
    assert response.headers["Content-Type"].startswith("application/javascript")
    response, _ = _get(site, _named("css/app.css"))
    assert response.headers["Content-Type"].startswith("text/css")


def test_another_releases_fingerprint_still_gets_the_file(site):
    # nginx cannot tell a stale fingerprint from the current one: the page still loads.
    response, body = _get(site, "/static/css/app.0123456789ab.css")
    assert response.status == 200
    assert body == (STATIC / "css" / "app.css").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/static/css/app.css",
        "/static/css/app.css?v=0123456789ab",
        "/static/css/app.0123456789a.css",  # 11 digits: no fingerprint
        "/static/css/app.0123456789AB.css",  # upper case: no fingerprint
    ],
)
def test_an_unfingerprinted_static_url_works_for_an_hour(site, path):
    response, body = _get(site, path)
    if path.count(".") > 1:
        assert response.status == 404  # a name that is not a file's
        return
    assert response.status == 200
    assert body == (STATIC / "css" / "app.css").read_bytes()
    assert response.headers.get_all("Cache-Control") == ["public, max-age=3600"]
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2fconfig.0123456789ab.py",
        "/static/..%2f__init__.0123456789ab.py",
        "/static/js/../../config.0123456789ab.py",
        "/static/js/..%2f..%2fconfig.0123456789ab.py",
        "/static/%2e%2e/%2e%2e/config.0123456789ab.py",
        "/static/..%2fapp.py",
        "/static/js/../../config.py",
    ],
)
def test_no_fingerprint_opens_a_way_out_of_static(site, path):
    response, body = _get(site, path)
    # nginx resolves `..` before it picks a location: what leaves /static/ goes to the app
    # (here the echoing stand-in, JSON), never to a file beside app/static.
    assert b"import" not in body and b"SECRET_KEY" not in body
    assert response.status in (400, 404) or response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("relative", "content_type"),
    [("css/app.css", "text/css"), ("js/htmx.min.js", "application/javascript")],
)
def test_text_static_files_are_gzipped(site, relative, content_type):
    for path in (f"/static/{relative}", _named(relative)):
        response, body = _get(site, path, **{"Accept-Encoding": "gzip"})
        assert response.headers["Content-Type"].startswith(content_type), path
        assert response.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in response.headers["Vary"], path
        assert gzip.decompress(body) == (STATIC / relative).read_bytes(), path
    plain, _ = _get(site, f"/static/{relative}")
    assert plain.headers["Content-Encoding"] is None  # a client that did not ask gets it as is


def test_the_apps_gzip_passes_through_once_and_hsts_is_sent_once(site):
    response, body = _get(site, "/healthz?pad=4000&gzip=1", **{"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b'"padding"' in gzip.decompress(body)  # one layer: decompressed once, it is JSON
    # The stand-in sends HSTS as the app does behind HTTPS: the browser sees nginx's only.
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]


def test_nginx_does_not_compress_what_the_app_left_plain(site):
    # The app leaves pages plain for requests another site made (BREACH, app/compression.py):
    # nginx must not compress them in its place.
    response, body = _get(site, "/healthz?pad=4000", **{"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] is None
    assert b'"padding"' in body


def test_gzip_turned_back_on_for_the_app_still_compresses_once(tmp_path):
    # An operator who deletes `gzip off;` loses the BREACH rule, but never gets a body
    # compressed twice: nginx leaves an answer that has a Content-Encoding alone.
    with running_site(tmp_path, edit=lambda site: site.replace("gzip off;", "gzip on;")) as ports:
        response, body = _get(ports, "/healthz?pad=4000&gzip=1", **{"Accept-Encoding": "gzip"})
        assert response.headers["Content-Encoding"] == "gzip"
        assert b'"padding"' in gzip.decompress(body)
        plain, plain_body = _get(ports, "/healthz?pad=4000", **{"Accept-Encoding": "gzip"})
        assert plain.headers["Content-Encoding"] == "gzip"  # what the rule is there to stop
        assert b'"padding"' in gzip.decompress(plain_body)


def test_the_pulse_cache_keeps_one_uncompressed_copy():
    # Cached by URL alone for every browser: a copy the app compressed for one browser would
    # reach browsers that cannot read it. The app is never asked to compress it.
    text = SITE.read_text()
    block = text[text.index("location /pulse/ {") :]
    block = block[: block.index("}")]
    lines = [line.split("#")[0].strip() for line in block.splitlines()]
    assert 'proxy_set_header Accept-Encoding "";' in lines
    assert "gzip off;" not in lines  # nginx compresses it on the way out


def test_the_site_leaves_the_apps_answers_to_the_app():
    text = SITE.read_text()
    for location in ("location / {", "location /staff/recordings/ {"):
        block = text[text.index(location) :]
        block = block[: block.index("}")]
        assert "gzip off;" in [line.split("#")[0].strip() for line in block.splitlines()], location


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


def test_the_pulse_is_one_copy_a_second_for_every_page_with_no_cookie_either_way(site):
    import json
    import time

    path = "/pulse/1/2/0123456789abcdef"
    # A copy lives to the end of the second it was made in (X-Accel-Expires: @second): both
    # requests must fall in one second, which a busy machine may miss; then try again.
    for _attempt in range(5):
        time.sleep(1 - time.time() % 1)
        began = int(time.time())
        first, body = _get(site, path, Cookie="session=candidate-a")
        second, again = _get(site, path, Cookie="session=candidate-b")
        if int(time.time()) == began:
            break
    assert first.status == 200 and first.headers["X-Cache"] in ("MISS", "EXPIRED")
    # The app never sees a candidate's cookie here, and no cookie comes back.
    assert "cookie" not in json.loads(body)
    assert first.headers.get("Set-Cookie") is None
    # Another candidate's page within the second: the same copy, whatever its cookie.
    assert second.headers["X-Cache"] == "HIT" and again == body
    assert second.headers.get_all("Strict-Transport-Security") == [HSTS]
    time.sleep(1.1)
    third, _ = _get(site, path, Cookie="session=candidate-c")
    assert third.headers["X-Cache"] in ("MISS", "EXPIRED")
