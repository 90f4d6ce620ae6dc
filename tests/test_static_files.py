"""Fingerprinted static URLs (issue 18, deliverable 5): every static URL a page emits carries its
content's hash, a fingerprinted URL may be cached for a year, an unfingerprinted or stale one is
revalidated, and the hashes are computed once per file, not per request."""

import hashlib
import re
from pathlib import Path

import pytest

from app.static_files import FINGERPRINT_LENGTH, Fingerprints, fingerprint_of
from tests.factories import gen_user

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"
STATIC_URL = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:FINGERPRINT_LENGTH]


def test_the_url_carries_the_hash_of_the_content(app):
    with app.test_request_context():
        from flask import url_for

        url = url_for("static", filename="js/htmx.min.js")
        assert fingerprint_of("js/htmx.min.js") == _sha(STATIC / "js" / "htmx.min.js")
    assert url == f"/static/js/htmx.min.js?v={_sha(STATIC / 'js' / 'htmx.min.js')}"


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_static_url_on_a_page_is_fingerprinted_and_served(app, client, staff, signed_in):
    if signed_in:
        gen_user("hr1", role="hr")
        assert staff.login("hr1").status_code == 302
    page = client.get("/hr/exams" if signed_in else "/", follow_redirects=True)
    assert page.status_code == 200
    urls = STATIC_URL.findall(page.get_data(as_text=True))
    assert any("htmx.min.js" in url for url in urls) and any("app.css" in url for url in urls)
    for url in urls:
        path, _, query = url.partition("?v=")
        assert query == _sha(STATIC / path.removeprefix("/static/")), url
        response = client.get(url)
        response.close()
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_unfingerprinted_and_stale_urls_still_work_without_a_long_cache(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=0123456789ab"):
        response = client.get(url)
        response.close()
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")
        assert "max-age=31536000" not in response.headers.get("Cache-Control", "")


def test_a_missing_file_is_a_404_and_no_url_is_made_up_for_it(app, client):
    with app.test_request_context():
        from flask import url_for

        assert url_for("static", filename="js/nope.js") == "/static/js/nope.js"
    assert client.get("/static/js/nope.js?v=0123456789ab").status_code == 404
    assert client.get("/static/../config.py").status_code == 404


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
