"""Fingerprinted static file names (issue 18, deliverable 5): every static URL a page emits carries
its content's hash in the file name, a fingerprinted URL may be cached for a year, an
unfingerprinted or stale one still serves the current file, revalidated, and the hashes are
computed once per file, not per request."""

import hashlib
import re
from pathlib import Path

import pytest
from flask import Flask

from app.static_files import (
    FINGERPRINT_LENGTH,
    Fingerprints,
    fingerprint_of,
    fingerprinted_name,
    init_static_files,
    parse_fingerprinted,
)
from tests.factories import gen_user

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"
STATIC_URL = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:FINGERPRINT_LENGTH]


def test_the_url_carries_the_hash_of_the_content(app):
    with app.test_request_context():
        from flask import url_for

        url = url_for("static", filename="js/htmx.min.js")
        licence = url_for("static", filename="js/htmx.LICENSE")
        assert fingerprint_of("js/htmx.min.js") == _sha(STATIC / "js" / "htmx.min.js")
    assert url == f"/static/js/htmx.min.{_sha(STATIC / 'js' / 'htmx.min.js')}.js"
    assert licence == f"/static/js/htmx.{_sha(STATIC / 'js' / 'htmx.LICENSE')}.LICENSE"


@pytest.mark.parametrize(
    ("filename", "named"),
    [
        ("js/candidate.js", "js/candidate.0123456789ab.js"),
        ("js/htmx.min.js", "js/htmx.min.0123456789ab.js"),
        ("favicon.svg", "favicon.0123456789ab.svg"),
        ("LICENSE", "LICENSE.0123456789ab"),
        ("v1.2/README", "v1.2/README.0123456789ab"),
        (".well-known", ".well-known.0123456789ab"),
    ],
)
def test_the_fingerprint_goes_before_the_last_extension_and_reads_back(filename, named):
    assert fingerprinted_name(filename, "0123456789ab") == named
    assert parse_fingerprinted(named) == (filename, "0123456789ab")


def test_a_name_that_would_not_read_back_is_left_plain():
    # An extension of other characters than letters and digits: the hash goes at the end.
    assert fingerprinted_name("js/a.min-v2", "0123456789ab") == "js/a.min-v2.0123456789ab"
    # A name ending like a fingerprint would read back as another file: it stays plain.
    assert fingerprinted_name("js/a.fedcba987654", "0123456789ab") is None
    assert parse_fingerprinted("js/candidate.js") is None
    assert parse_fingerprinted("js/candidate.0123456789AB.js") is None  # upper case: not ours
    assert parse_fingerprinted("js/candidate.0123456789a.js") is None  # 11 digits
    assert parse_fingerprinted("js/.0123456789ab.js") is None


def test_no_static_file_is_named_like_a_fingerprinted_one():
    # nginx reads such a name as a fingerprint and serves the other file (the app looks for the
    # real file first): keep the two from disagreeing.
    for path in STATIC.rglob("*"):
        assert parse_fingerprinted(path.relative_to(STATIC).as_posix()) is None, path


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_static_url_on_a_page_is_fingerprinted_and_served(app, client, staff, signed_in):
    if signed_in:
        gen_user("hr1", role="hr")
        assert staff.login("hr1").status_code == 302
    page = client.get("/hr/exams" if signed_in else "/", follow_redirects=True)
    assert page.status_code == 200
    urls = STATIC_URL.findall(page.get_data(as_text=True))
    names = {(parse_fingerprinted(url.removeprefix("/static/")) or ("",))[0] for url in urls}
    assert {"js/htmx.min.js", "css/app.css"} <= names, urls
    for url in urls:
        parsed = parse_fingerprinted(url.removeprefix("/static/"))
        assert parsed is not None and "?" not in url, url
        assert parsed[1] == _sha(STATIC / parsed[0]), url
        response = client.get(url)
        response.close()
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def _sha_of(relative: str) -> str:
    return _sha(STATIC / relative)


@pytest.mark.parametrize("relative", ["css/app.css", "js/htmx.min.js", "js/htmx.LICENSE"])
def test_a_fingerprinted_name_serves_the_file_for_a_year(app, client, relative):
    with app.test_request_context():
        from flask import url_for

        url = url_for("static", filename=relative)
    assert url != f"/static/{relative}" and _sha_of(relative) in url
    response = client.get(url)
    body = response.get_data()
    response.close()
    assert response.status_code == 200
    assert body == (STATIC / relative).read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # A browser revalidating after all (a forced reload) gets a 304 with the same year.
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    again.close()
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_unfingerprinted_and_stale_urls_still_serve_the_current_file_revalidated(client):
    current = (STATIC / "css" / "app.css").read_bytes()
    for url in ("/static/css/app.css", "/static/css/app.0123456789ab.css"):
        response = client.get(url)
        body = response.get_data()
        response.close()
        assert response.status_code == 200, url
        assert body == current, url
        assert "immutable" not in response.headers.get("Cache-Control", "")
        assert "max-age=31536000" not in response.headers.get("Cache-Control", "")
    stale = client.get("/static/css/app.0123456789ab.css")
    stale.close()
    assert stale.headers["Cache-Control"] == "no-cache"


def test_a_real_file_whose_name_looks_fingerprinted_is_served_as_it_is(tmp_path):
    (tmp_path / "a.css").write_text("the plain one")
    (tmp_path / "a.0123456789ab.css").write_text("the real one")
    bare = Flask(__name__, static_folder=str(tmp_path), static_url_path="/static")
    bare.config["TESTING"] = True
    init_static_files(bare)
    with bare.test_request_context():
        from flask import url_for

        plain = url_for("static", filename="a.css")
    with bare.test_client() as client:
        response = client.get("/static/a.0123456789ab.css")
        body = response.get_data()
        response.close()
        assert body == b"the real one"
        assert "immutable" not in response.headers.get("Cache-Control", "")
        # And the plain file, under its own fingerprint, is still the plain one.
        response = client.get(plain)
        body = response.get_data()
        response.close()
        assert body == b"the plain one"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_missing_file_is_a_404_and_no_url_is_made_up_for_it(app, client):
    with app.test_request_context():
        from flask import url_for

        assert url_for("static", filename="js/nope.js") == "/static/js/nope.js"
    assert client.get("/static/js/nope.js").status_code == 404
    assert client.get("/static/js/nope.0123456789ab.js").status_code == 404
    assert client.get("/static/../config.py").status_code == 404


@pytest.mark.parametrize(
    "url",
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
def test_a_fingerprint_opens_no_way_out_of_the_folder(client, url):
    response = client.get(url)
    body = response.get_data()
    response.close()
    assert response.status_code == 404, url
    assert b"import" not in body


def test_hashes_are_computed_once_per_file(tmp_path, monkeypatch):
    (tmp_path / "a.css").write_text("body{}")
    reads = []
    real_read = Path.read_bytes

    def counting(self):
        reads.append(self.name)
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    released = Fingerprints(str(tmp_path), watch=False)
    first = released.of("a.css")
    (tmp_path / "a.css").write_text("body{color:red}")
    assert [released.of("a.css") for _ in range(5)] == [first] * 5  # a release's files are fixed
    assert reads == ["a.css"]
    assert released.of("../a.css") is None and released.of("b.css") is None


def test_development_notices_a_changed_file(tmp_path):
    css = tmp_path / "a.css"
    css.write_text("body{}")
    developing = Fingerprints(str(tmp_path), watch=True)
    first = developing.of("a.css")
    css.write_text("body{color:red}")
    assert developing.of("a.css") != first
    assert developing.of("a.css") == _sha(css)
