"""Fingerprinted static file names: every `url_for('static', filename=...)` puts the hash of the
file's content into the name, before the last extension (`js/candidate.js` is asked for as
`/static/js/candidate.3f2a9c1b5d7e.js`; a name without an extension gets `.HASH` appended), so a
browser may keep the file for a year and still gets the new one the moment a release changes it
(the URL changes with the content).

Why in the name and not a query argument: caches and proxies that ignore or drop query strings
still tell releases apart. The file keeps its one name on disk all the same: no build step, no
manifest, no copies. The fingerprint is stripped when the file is served, here (the `static`
view below) and in nginx (a regex location aliasing the real file, in
deploy/nginx/interview-room.conf); both read a name with the same pattern, `FINGERPRINTED`.
A URL without a fingerprint (an old bookmark, a hand-typed URL) still works, with a short cache.

When the app serves the files itself (`make run`, tests, a node without nginx), the year is
given only if the fingerprint is the one of the file it is serving now: a page from a node not
yet upgraded asks for an old fingerprint and gets the current content revalidated every time,
never a 404 and never stuck under a URL that will not change again.

Hashes are computed once per file and kept (files do not change under a running release); in
development (`make run`, FLASK_DEBUG) a changed file is noticed by its modification time.
"""

import hashlib
import os
import re
from pathlib import Path

from flask import Flask, Response, current_app, send_from_directory

from app.compression import compressed_static, file_stamp, is_text, static_encoding

FINGERPRINT_LENGTH = 12  # hex digits of SHA-256; nginx's location matches exactly this many
ONE_YEAR = 31536000

# The same pattern as nginx's location (there anchored after `/static/`): the base name, a dot,
# the fingerprint, and the last extension if the file has one.
FINGERPRINTED = re.compile(
    rf"^(?P<base>.+)\.(?P<digest>[0-9a-f]{{{FINGERPRINT_LENGTH}}})(?P<ext>\.[A-Za-z0-9]+)?$"
)


class Fingerprints:
    def __init__(self, folder: str, watch: bool = False):
        self._folder = folder
        self._watch = watch
        self._known: dict[str, tuple[tuple[int, int] | None, str]] = {}

    def of(self, filename: str) -> str | None:
        """The file's fingerprint, or None if there is no such file under the folder."""
        known = self._known.get(filename)
        if known is not None and not self._watch:
            return known[1]
        found = file_stamp(self._folder, filename)
        if found is None:
            return None
        path, stamp = found
        if known is not None and known[0] == stamp:
            return known[1]
        if not os.path.isfile(path):
            return None
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:FINGERPRINT_LENGTH]
        # Only files that exist are kept: a request can name any file, the cache stays small.
        self._known[filename] = (stamp, digest)
        return digest


def fingerprinted_name(filename: str, digest: str) -> str | None:
    """`js/candidate.js` → `js/candidate.<digest>.js`; `LICENSE` → `LICENSE.<digest>`.
    None when the result would not read back as this file (an extension nginx's pattern does
    not take, say): such a file is linked by its plain name rather than by one that 404s."""
    folder, slash, name = filename.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if dot and stem and re.fullmatch(r"[A-Za-z0-9]+", ext):
        candidate = f"{folder}{slash}{stem}.{digest}.{ext}"
    else:
        candidate = f"{filename}.{digest}"
    return candidate if parse_fingerprinted(candidate) == (filename, digest) else None


def parse_fingerprinted(name: str) -> tuple[str, str] | None:
    """`js/candidate.3f2a9c1b5d7e.js` → (`js/candidate.js`, `3f2a9c1b5d7e`); None for a name
    that carries no fingerprint."""
    match = FINGERPRINTED.match(name)
    if match is None or match["base"].endswith("/"):
        return None
    return match["base"] + (match["ext"] or ""), match["digest"]


def init_static_files(app: Flask) -> None:
    assert app.static_folder is not None, "the app serves app/static"
    from app.production_settings import is_production

    folder = app.static_folder
    fingerprints = Fingerprints(folder, watch=app.debug or not is_production(app.config))
    app.extensions["static_fingerprints"] = fingerprints

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint != "static" or "filename" not in values:
            return
        digest = fingerprints.of(values["filename"])
        if digest is not None:
            values["filename"] = (
                fingerprinted_name(values["filename"], digest) or values["filename"]
            )

    def serve_static(filename: str) -> Response:
        # A real file by that name first, whatever it looks like; only then a fingerprint is
        # read off the name. send_from_directory (safe_join) refuses anything outside the folder.
        real = filename
        asked = None
        parsed = parse_fingerprinted(filename)
        if parsed is not None and fingerprints.of(filename) is None:
            real, asked = parsed
        response = _compressed_or_plain(folder, real)
        if asked is None:
            return response
        if asked == fingerprints.of(real):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
        else:
            # A page from another release: this content, but asked again every time.
            response.cache_control.max_age = None
            response.cache_control.public = False
            response.cache_control.no_cache = True
        return response

    def _compressed_or_plain(folder: str, real: str) -> Response:
        encoding = static_encoding(real)
        response = compressed_static(folder, real, encoding) if encoding else None
        if response is None:
            response = send_from_directory(folder, real, max_age=app.get_send_file_max_age(real))
            if encoding is not None or is_text(real):
                response.vary.add("Accept-Encoding")  # the compressed copy is another answer
        else:
            # As send_file would (SEND_FILE_MAX_AGE_DEFAULT); a fingerprint then overrides it.
            response.cache_control.no_cache = True
            max_age = app.get_send_file_max_age(real)
            if max_age is not None:
                if max_age > 0:
                    response.cache_control.no_cache = None
                    response.cache_control.public = True
                response.cache_control.max_age = max_age
        return response

    app.view_functions["static"] = serve_static


def fingerprint_of(filename: str) -> str | None:
    """For tests and scripts: the fingerprint the running app puts in a static file's URL."""
    fingerprints: Fingerprints = current_app.extensions["static_fingerprints"]
    return fingerprints.of(filename)
