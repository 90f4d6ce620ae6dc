"""Fingerprinted static URLs: every `url_for('static', filename=...)` carries `?v=<hash of the
file's content>`, so a browser may keep the file for a year and still gets the new one the moment
a release changes it (the URL changes with the content).

Why a query argument rather than a hash in the file name: the file keeps its one name on disk (no
build step, no manifest to deploy), a URL without it (an old bookmark, a cached page from before
the upgrade) still works, and nginx tells the two apart with a `map` on `$arg_v`
(deploy/nginx/interview-room.conf): `immutable` for a year with a fingerprint, an hour without.

When the app serves the files itself (`make run`, tests, a node without nginx), the year is
given only if the fingerprint is the one of the file it is serving now: a page from a node not
yet upgraded asks for `?v=old` and gets the new content revalidated every time, never stuck
under a URL that will not change again.

Hashes are computed once per file and kept (files do not change under a running release); in
development (`make run`, FLASK_DEBUG) a changed file is noticed by its modification time.
"""

import hashlib
import os
from pathlib import Path

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

FINGERPRINT_ARG = "v"
FINGERPRINT_LENGTH = 12  # hex digits of SHA-256; nginx's map matches exactly this many
ONE_YEAR = 31536000


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
        path = safe_join(self._folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if known is not None and known[0] == stamp:
            return known[1]
        if not os.path.isfile(path):
            return None
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:FINGERPRINT_LENGTH]
        # Only files that exist are kept: a request can name any file, the cache stays small.
        self._known[filename] = (stamp, digest)
        return digest


def init_static_files(app: Flask) -> None:
    assert app.static_folder is not None, "the app serves app/static"
    from app.production_settings import is_production

    fingerprints = Fingerprints(app.static_folder, watch=app.debug or not is_production(app.config))
    app.extensions["static_fingerprints"] = fingerprints

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint != "static" or FINGERPRINT_ARG in values or "filename" not in values:
            return
        digest = fingerprints.of(values["filename"])
        if digest is not None:
            values[FINGERPRINT_ARG] = digest

    @app.after_request
    def _cache_fingerprinted(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 206, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        asked = request.args.get(FINGERPRINT_ARG)
        if asked is not None and asked == fingerprints.of(filename):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
        return response


def fingerprint_of(filename: str) -> str | None:
    """For tests and scripts: the fingerprint the running app puts on a static file's URL."""
    fingerprints: Fingerprints = current_app.extensions["static_fingerprints"]
    return fingerprints.of(filename)
