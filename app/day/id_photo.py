"""The candidate's ID photo (身份证人像面) for the assistant's identity check.

What may be uploaded and when: only where the exam asks for one, only before the debug room (the
assistant compares the face with it there), a JPG or PNG of at most 5 MB judged by its bytes,
not by its name. The file is written whole or not at all.
"""

import os
from pathlib import Path

from flask import current_app

from app.models import Candidate
from app.models.candidate import BEFORE_DEBUG
from app.refusals import Refused

ID_PHOTO_MAX_BYTES = 5 * 1024 * 1024
ID_PHOTO_TYPES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))
PHOTO_FOLDER = "uploads/id_photos"
# What the assistant's page may serve, and as what (older uploads had these names too).
SERVED_SUFFIXES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


def photo_root() -> Path:
    """What candidate.id_photo_path is relative to: ID_PHOTO_DIR, else the instance folder."""
    return Path(current_app.config.get("ID_PHOTO_DIR") or current_app.instance_path)


def may_upload(candidate: Candidate) -> None:
    """Refused unless this candidate may (still) upload or replace the photo."""
    if not candidate.exam.requires_id_photo:
        raise Refused("id_photo_not_needed")
    if candidate.state not in BEFORE_DEBUG:
        raise Refused("id_photo_too_late")


def photo_type(data: bytes, max_bytes: int = ID_PHOTO_MAX_BYTES) -> str:
    """The photo's file type from its first bytes ("jpg" or "png"), or refused. `data` holds at
    most max_bytes + 1 bytes of the upload, enough to tell that it is too large."""
    if not data:
        raise Refused("id_photo_no_file")
    if len(data) > max_bytes:
        raise Refused("id_photo_too_large")
    ext = next((ext for magic, ext in ID_PHOTO_TYPES if data.startswith(magic)), None)
    if ext is None:
        raise Refused("id_photo_wrong_type")
    return ext


def store_photo(instance: Path, candidate_id: int, ext: str, data: bytes) -> str:
    """Write the photo atomically and remove one of the other type; its path under instance/."""
    relative = f"{PHOTO_FOLDER}/{candidate_id}.{ext}"
    target = instance / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    for _, other in ID_PHOTO_TYPES:
        stale = target.with_suffix(f".{other}")
        if stale != target and stale.exists():
            stale.unlink()
    return relative


def stored_photo(candidate: Candidate) -> Path | None:
    """The photo's file, only if it lies inside the photo folder and is a JPG or PNG."""
    if not candidate.id_photo_path:
        return None
    base = photo_root().resolve()
    path = Path(candidate.id_photo_path)
    path = (path if path.is_absolute() else base / path).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    if path.suffix.lower() not in SERVED_SUFFIXES:
        return None
    return path


def photo_files_of(candidate_id: int) -> list[Path]:
    """Every file on disk that holds or held this candidate's photo: the stored one, the other
    type's and a `.part` a killed upload left. What retention deletes, whatever the row says."""
    folder = photo_root() / PHOTO_FOLDER
    names = [f"{candidate_id}.{ext}{tail}" for _, ext in ID_PHOTO_TYPES for tail in ("", ".part")]
    return [folder / name for name in names if (folder / name).is_file()]
