"""Compressed answers from the app itself (issue 20): `make run`, a node without nginx and a node
behind nginx all send text compressed, and nginx passes it through (deploy/nginx/ compresses
only the static files it serves itself).

Two kinds of answer:
- Static files (CSS, JavaScript, SVG, the icon): compressed once per file and process, brotli at
  its best quality and gzip at level 9, kept in memory (`CompressedFiles`; app/static/ is about
  150 kB) and sent with the same long-lived caching headers as the plain file (app/static_files.py).
  They hold no secret: compressed for any request that accepts it.
- Everything else (pages, fragments, JSON): Flask-Compress, brotli (quality 4) or gzip (level 6),
  from COMPRESS_MIN_SIZE bytes on, so a 304 or a small poll answer goes as it is.

BREACH: a compressed page that holds a secret (the CSRF token, a candidate's personal data)
next to text an attacker chooses (a query argument shown back, a search) lets the attacker
read the secret from the answers' lengths, if they can make the victim's browser send many
requests and see their sizes. Such requests come from the attacker's site: the browser marks them
`Sec-Fetch-Site: cross-site` (or `same-site` from a sibling host), and the app does not compress
them. Only `same-origin` (the app's own pages, their htmx polls) and `none` (a typed address, a
bookmark: nobody else made the request) are compressed; a browser that sends no Sec-Fetch-Site
gets pages uncompressed (static files still compressed). Cookies are `SameSite=Lax` too, which
already keeps the session off another site's images and scripts. tests/test_compression.py.

ETags: a compressed dynamic answer's strong ETag gets the encoding appended ("V" -> "V:gzip",
Flask-Compress), so the two bodies never share a strong validator. The polls are not affected:
their pages send the version they show (data-etag, If-None-Match: "V"), compared before anything
is rendered, and a 304 has no body to compress. A static file's compressed copy has an ETag of
its own (the content's hash and the encoding).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import brotli
from flask import Flask, Response, current_app, request
from flask_compress import Compress
from werkzeug.security import safe_join

# Requests nobody but the app's own pages (or the person at the keyboard) can have made.
COMPRESSED_FOR_SITES = frozenset({"same-origin", "none"})

TEXT_TYPES = (
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "image/vnd.microsoft.icon",
    "image/x-icon",
)

# Static files: in the order the app prefers them when a browser takes both.
STATIC_ENCODINGS = ("br", "gzip")

SETTINGS = {
    "COMPRESS_MIMETYPES": list(TEXT_TYPES),
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_LEVEL": 6,  # gzip
    "COMPRESS_BR_LEVEL": 4,  # brotli's quality: near gzip's CPU, smaller
    # One packet either way; and a poll's 304 or a small fragment is not worth the CPU.
    "COMPRESS_MIN_SIZE": 1024,
    # Streamed answers are files (recordings, exports) or already compressed: as they are.
    "COMPRESS_STREAMS": False,
    # Called from _compress below, after the BREACH rule, not as a hook of its own.
    "COMPRESS_REGISTER": False,
}


def init_compression(app: Flask) -> None:
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    compress = Compress()
    compress.init_app(app)
    app.extensions["compressed_static"] = CompressedFiles(
        app.static_folder or "", app.config["COMPRESS_MIN_SIZE"]
    )

    @app.after_request
    def _compress(response: Response) -> Response:
        if not current_app.config["COMPRESS_RESPONSES"] or request.endpoint == "static":
            return response  # static files: app/static_files.py serves them compressed
        if response.mimetype not in compress.compress_mimetypes_set:
            return response
        response.vary.add("Accept-Encoding")
        response.vary.add("Sec-Fetch-Site")
        if not compressible_request() or response.status_code == 206:
            return response
        return compress.after_request(response)


def compressible_request() -> bool:
    """May this request's dynamic answer be compressed (the BREACH rule above)?"""
    return request.headers.get("Sec-Fetch-Site", "").strip().lower() in COMPRESSED_FOR_SITES


def static_encoding(filename: str) -> str | None:
    """The encoding to send static file `filename` in, for this request: None for as it is
    (compression off, not text, too small, not accepted, or a Range request, which is served
    from the file itself)."""
    files: CompressedFiles | None = current_app.extensions.get("compressed_static")
    if files is None or not current_app.config.get("COMPRESS_RESPONSES"):
        return None
    if "Range" in request.headers or not is_text(filename):
        return None
    accepted = request.accept_encodings
    best = max(STATIC_ENCODINGS, key=lambda encoding: accepted[encoding])  # ties: the first
    return best if accepted[best] > 0 else None


def is_text(filename: str) -> bool:
    return (mimetypes.guess_type(filename)[0] or "") in TEXT_TYPES


def compressed_static(folder: str, filename: str, encoding: str) -> Response | None:
    """The static file compressed (a 304 where the browser has this copy), or None to serve
    it as it is (missing, too small, or no smaller compressed)."""
    files: CompressedFiles = current_app.extensions["compressed_static"]
    found = files.get(filename, encoding)
    if found is None:
        return None
    body, etag, mtime = found
    mimetype = mimetypes.guess_type(filename)[0]
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.set_etag(etag)
    response.last_modified = datetime.fromtimestamp(mtime, UTC)
    response.make_conditional(request)  # a 304 where the browser has this copy
    return response


class CompressedFiles:
    """Compressed copies of static files, made on first request and kept while the file on disk
    keeps its modification time and size (so `make run` picks up an edit)."""

    def __init__(self, folder: str, min_size: int):
        self._folder = folder
        self._min_size = min_size
        self._lock = threading.Lock()
        self._known: dict[
            tuple[str, str], tuple[tuple[int, int], tuple[bytes, str, int] | None]
        ] = {}

    def get(self, filename: str, encoding: str) -> tuple[bytes, str, int] | None:
        """(compressed bytes, ETag, modification time in seconds), or None."""
        found = file_stamp(self._folder, filename)
        if found is None:
            return None
        path, stamp = found
        known = self._known.get((filename, encoding))
        if known is not None and known[0] == stamp:
            return known[1]
        # Brotli's best quality takes a few hundred milliseconds for htmx: the threads of a
        # worker that all ask at once at the start of the day compress it once, not each.
        with self._lock:
            known = self._known.get((filename, encoding))
            if known is not None and known[0] == stamp:
                return known[1]
            return self._make(filename, encoding, path, stamp)

    def _make(self, filename, encoding, path, stamp) -> tuple[bytes, str, int] | None:
        if not os.path.isfile(path) or stamp[1] < self._min_size:
            found = None
        else:
            data = Path(path).read_bytes()
            body = _compress(data, encoding)
            digest = hashlib.sha256(data).hexdigest()[:16]
            found = (
                (body, f"{digest}-{encoding}", stamp[0] // 1_000_000_000)
                if len(body) < len(data)
                else None
            )
        # Only files that exist are kept: a request can name any file, the cache stays small.
        self._known[(filename, encoding)] = (stamp, found)
        return found


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(data, quality=11)
    # mtime=0: the same bytes from every node and every start.
    return gzip.compress(data, compresslevel=9, mtime=0)


def file_stamp(folder: str, filename: str) -> tuple[str, tuple[int, int]] | None:
    """The file's path under `folder` and what says it changed (modification time, size); None
    for a name outside the folder or no such file."""
    path = safe_join(folder, filename)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return path, (stat.st_mtime_ns, stat.st_size)
