"""The URL a page uses for a static file: its name with the content's fingerprint
(app/static_files.py), computed from the file in the checkout."""

import hashlib
from pathlib import Path

from app.static_files import FINGERPRINT_LENGTH, fingerprinted_name

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"


def static_url(filename: str) -> str:
    digest = hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:FINGERPRINT_LENGTH]
    named = fingerprinted_name(filename, digest)
    assert named is not None, filename
    return f"/static/{named}"
