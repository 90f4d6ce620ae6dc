"""Where recordings live on disk: RECORDINGS_DIR/<session folder>/<file name>, and the
temporary files of pulls under RECORDINGS_DIR/.partial.

Shared by the pull job (app/jobs/recordings.py), the worker's start-up clean-up
(app/jobs/worker.py) and the recordings page (app/routes/recordings.py); it imports none of them.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from flask import current_app

from app.models import Recording, RecordingStatus
from app.timeutil import utcnow

PARTIAL_DIR = ".partial"


def recordings_dir(app=None) -> Path:
    return Path((app or current_app).config["RECORDINGS_DIR"])


def partial_dir(app=None) -> Path:
    return recordings_dir(app) / PARTIAL_DIR


def relative_stored_path(recording: Recording) -> str:
    """Where a verified file lives under RECORDINGS_DIR: `<session folder>/<file name>`."""
    return f"{recording.session_folder}/{recording.file_name}"


def stored_file(recording: Recording) -> Path | None:
    """The verified file on disk, or None (never a path outside RECORDINGS_DIR)."""
    if recording.status != RecordingStatus.STORED or not recording.stored_path:
        return None
    root = recordings_dir().resolve()
    path = (root / recording.stored_path).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def source_url(recording: Recording, base: str) -> str:
    """`$JIBRI_RECORDINGS_URL/<folder name>/<file name>`."""
    return f"{base.rstrip('/')}/{quote(recording.session_folder)}/{quote(recording.file_name)}"


def clean_partials(app=None, older_than: timedelta = timedelta(minutes=15)) -> int:
    """Delete temporary files nobody has written to for a while (a killed pull's leftovers).

    A running pull writes every second, so an old file is nobody's; the pull of a recording also
    clears its own leftovers when it starts again (app/jobs/recordings.py).
    """
    folder = partial_dir(app)
    if not folder.is_dir():
        return 0
    limit = utcnow().timestamp() - older_than.total_seconds()
    count = 0
    for entry in folder.iterdir():
        if entry.is_file() and entry.stat().st_mtime < limit:
            entry.unlink(missing_ok=True)
            count += 1
    return count


def fsync_dir(path: Path) -> None:
    """Make a rename durable: the directory entry itself must reach the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
