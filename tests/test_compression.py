"""Compression from the app itself (issue 20, deliverable 4; app/compression.py): text answers
compressed when the browser asks and only then, static files compressed once and kept a year
all the same, small answers and 304s as they are, their own ETag for compressed bodies, and the
BREACH rule: no compressed page for a request another site made."""

import gzip
import re

import brotli
import pytest
from flask import Flask, jsonify, url_for

from app.compression import CompressedFiles, init_compression
from app.static_files import fingerprint_of
from tests.candidate_client import CandidateBrowser
from tests.factories import World

ASKS = {"Accept-Encoding": "gzip", "Sec-Fetch-Site": "same-origin"}
STATIC_TEXT = [("js/htmx.min.js", "javascript"), ("css/app.css", "text/css")]


def _plain(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    body = response.get_data()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return brotli.decompress(body)
    assert encoding is None, encoding
    return body


def _static_url(app, filename: str) -> str:
    with app.test_request_context():
        return url_for("static", filename=filename)


@pytest.fixture
def json_app():
    """A bare app with the hook alone, for JSON of any size."""
    app = Flask(__name__)
    app.config["COMPRESS_RESPONSES"] = True
    init_compression(app)

    @app.get("/big")
    def big():
        return jsonify(rows=[{"name": f"考生{i}", "state": "waiting"} for i in range(200)])

    @app.get("/tagged")
    def tagged():
        response = big()
        response.set_etag("v1")
        return response

    @app.get("/small")
    def small():
        return jsonify(ok=True)

    return app


# --- compressed when asked, and only then ------------------------------------------------------


def test_the_code_page_is_gzipped_when_asked_and_plain_when_not(client):
    compressed = client.get("/", headers=ASKS)
    assert compressed.status_code == 200
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.mimetype == "text/html"
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert int(compressed.headers["Content-Length"]) == len(compressed.get_data())
    assert "请输入邀请码" in _plain(compressed).decode()
    plain = client.get("/", headers={"Sec-Fetch-Site": "same-origin"})
    assert plain.headers.get("Content-Encoding") is None
    assert "请输入邀请码" in plain.get_data(as_text=True)
    assert len(compressed.get_data()) < 0.6 * len(plain.get_data())


def test_brotli_when_the_browser_prefers_it(client):
    response = client.get(
        "/", headers={"Accept-Encoding": "gzip, deflate, br, zstd", "Sec-Fetch-Site": "none"}
    )
    assert response.headers["Content-Encoding"] == "br"
    assert "请输入邀请码" in _plain(response).decode()


def test_json_is_gzipped_when_asked_and_plain_when_not(json_app):
    client = json_app.test_client()
    compressed = client.get("/big", headers=ASKS)
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.mimetype == "application/json"
    plain = client.get("/big")
    assert plain.headers.get("Content-Encoding") is None
    assert _plain(compressed) == plain.get_data()
    assert {"Accept-Encoding", "Sec-Fetch-Site"} <= set(plain.vary.as_set(preserve_casing=True))


@pytest.mark.parametrize(("filename", "kind"), STATIC_TEXT)
def test_static_text_is_compressed_when_asked_and_plain_when_not(app, client, filename, kind):
    on_disk = (app.static_folder + "/" + filename).encode()
    with open(on_disk, "rb") as f:
        content = f.read()
    for url in (_static_url(app, filename), f"/static/{filename}"):
        for asked in ("gzip", "br"):
            response = client.get(url, headers={"Accept-Encoding": asked})
            assert response.status_code == 200, url
            assert kind in response.mimetype, (url, response.mimetype)
            assert response.headers["Content-Encoding"] == asked, url
            assert "Accept-Encoding" in response.headers["Vary"], url
            assert _plain(response) == content, url
            assert len(response.get_data()) < len(content) / 2, url
        plain = client.get(url)
        assert plain.headers.get("Content-Encoding") is None, url
        assert "Accept-Encoding" in plain.headers["Vary"], url
        assert plain.get_data() == content
        plain.close()


def test_static_files_are_compressed_for_any_site_they_hold_no_secret(app, client):
    url = _static_url(app, "js/htmx.min.js")
    response = client.get(url, headers={"Accept-Encoding": "gzip", "Sec-Fetch-Site": "cross-site"})
    assert response.headers["Content-Encoding"] == "gzip"


def test_identity_refused_or_nothing_accepted_means_plain(app, client):
    url = _static_url(app, "css/app.css")
    for accept in ("identity", "gzip;q=0, br;q=0", "compress"):
        response = client.get(url, headers={"Accept-Encoding": accept})
        assert response.headers.get("Content-Encoding") is None, accept
        response.close()
    assert client.get(url, headers={"Accept-Encoding": "*"}).headers["Content-Encoding"] == "br"


# --- small answers, 304s, ETags --------------------------------------------------------------


def test_small_answers_go_as_they_are(json_app, app, client):
    small = json_app.test_client().get("/small", headers=ASKS)
    assert small.headers.get("Content-Encoding") is None
    # The SVG icon (223 bytes) is below the minimum too.
    icon = client.get(_static_url(app, "favicon.svg"), headers=ASKS)
    assert icon.status_code == 200 and icon.headers.get("Content-Encoding") is None
    icon.close()


def test_a_compressed_static_file_keeps_its_year_and_its_own_etag(app, client):
    url = _static_url(app, "js/htmx.min.js")
    plain = client.get(url)
    compressed = client.get(url, headers={"Accept-Encoding": "gzip"})
    for response in (plain, compressed):
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert compressed.headers["ETag"] != plain.headers["ETag"]
    assert not compressed.headers["ETag"].startswith("W/")  # a strong validator of its own
    again = client.get(
        url, headers={"Accept-Encoding": "gzip", "If-None-Match": compressed.headers["ETag"]}
    )
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == compressed.headers["ETag"]
    # The plain file's ETag does not stand for the compressed copy, nor the gzip's for brotli.
    assert (
        client.get(
            url, headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]}
        ).status_code
        == 200
    )
    assert (
        client.get(
            url, headers={"Accept-Encoding": "br", "If-None-Match": compressed.headers["ETag"]}
        ).status_code
        == 200
    )
    plain.close()


def test_an_unfingerprinted_or_stale_static_url_compressed_keeps_its_short_cache(app, client):
    plain = client.get("/static/css/app.css")
    compressed = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["Cache-Control"] == plain.headers["Cache-Control"]
    stale = client.get("/static/css/app.0123456789ab.css", headers={"Accept-Encoding": "gzip"})
    assert stale.headers["Content-Encoding"] == "gzip"
    assert stale.headers["Cache-Control"] == "no-cache"
    plain.close()


def test_a_range_request_gets_the_file_itself(app, client):
    url = _static_url(app, "js/htmx.min.js")
    response = client.get(url, headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    assert response.status_code == 206
    assert response.headers.get("Content-Encoding") is None
    assert len(response.get_data()) == 100
    response.close()


def test_each_static_file_is_compressed_once(tmp_path, monkeypatch):
    import app.compression as compression

    (tmp_path / "a.css").write_text("body { color: red; }\n" * 200)
    made = []
    real = compression._compress
    monkeypatch.setattr(
        compression, "_compress", lambda data, enc: made.append(enc) or real(data, enc)
    )
    files = CompressedFiles(str(tmp_path), min_size=1024)
    first = files.get("a.css", "gzip")
    assert first is not None and files.get("a.css", "gzip") == first
    assert made == ["gzip"]
    assert files.get("missing.css", "gzip") is None
    assert files.get("../a.css", "gzip") is None


def test_a_compressed_answer_has_a_strong_etag_of_its_own(json_app):
    client = json_app.test_client()
    plain = client.get("/tagged")
    compressed = client.get("/tagged", headers=ASKS)
    assert plain.headers["ETag"] == '"v1"'
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.headers["ETag"] == '"v1:gzip"'  # never the plain body's validator
    again = client.get("/tagged", headers={**ASKS, "If-None-Match": '"v1:gzip"'})
    assert again.status_code == 304 and again.get_data() == b""


def test_the_candidate_poll_still_answers_304_and_its_fragment_goes_as_it_is(client):
    world = World()
    me = CandidateBrowser(client)
    assert me.enter_code(world.candidates[0].code).status_code == 303
    world.to_waiting(world.candidates[0])
    headers = {**ASKS, "HX-Request": "true"}
    full = client.get("/me/state?stage=waiting", headers=headers, environ_base=me.environ)
    assert full.status_code == 200
    # Under a kilobyte: not worth compressing, and its ETag is the version the page shows.
    assert full.headers.get("Content-Encoding") is None
    etag = re.search(r'data-etag="([^"]+)"', full.get_data(as_text=True)).group(1)
    assert full.headers["ETag"] == f'"{etag}"'
    # The page sends the version it shows, as candidate.js does: 304, nothing to compress.
    again = client.get(
        "/me/state?stage=waiting",
        headers={**headers, "If-None-Match": f'"{etag}"'},
        environ_base=me.environ,
    )
    assert again.status_code == 304
    assert again.headers.get("Content-Encoding") is None and again.get_data() == b""


# --- BREACH: no compressed page for a request another site made ------------------------------


@pytest.mark.parametrize("site", ["cross-site", "same-site", None, "bogus"])
def test_a_page_asked_for_by_another_site_is_not_compressed(client, site):
    # The code page holds the CSRF token; an attacker's page can make the browser ask for it
    # with text of the attacker's choosing, but then it comes uncompressed: no length oracle.
    headers = {"Accept-Encoding": "gzip, br"}
    if site is not None:
        headers["Sec-Fetch-Site"] = site
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") is None
    assert 'name="csrf_token"' in response.get_data(as_text=True)
    assert "Sec-Fetch-Site" in response.headers["Vary"]


@pytest.mark.parametrize("site", ["same-origin", "none", "Same-Origin"])
def test_a_page_the_app_or_the_person_asked_for_is_compressed(client, site):
    response = client.get("/", headers={"Accept-Encoding": "gzip", "Sec-Fetch-Site": site})
    assert response.headers["Content-Encoding"] == "gzip"


def test_the_session_cookie_stays_off_other_sites_requests(app, client):
    # The second half of the rule: Lax keeps the cookie off cross-site images, scripts and
    # fetches, so only a top-level navigation could carry it, and that comes uncompressed.
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = client.get("/", headers=ASKS)
    cookie = response.headers.get("Set-Cookie", "")
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


# --- the switch -------------------------------------------------------------------------------


def test_compress_responses_off_sends_everything_as_it_is(app, client):
    app.config["COMPRESS_RESPONSES"] = False
    assert client.get("/", headers=ASKS).headers.get("Content-Encoding") is None
    response = client.get(_static_url(app, "js/htmx.min.js"), headers=ASKS)
    assert response.headers.get("Content-Encoding") is None
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    response.close()
    with app.test_request_context():
        assert fingerprint_of("js/htmx.min.js")
