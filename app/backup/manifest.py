"""The manifest of a backup: every stored personal file (app/retention/kinds.py) with size and
SHA-256, the database file's too, the app version and migration, and when.

By default the files stay where they are (recordings are large; operators copy the folders with
their own tools, README "Backups and restore"), and `verify` re-hashes them in place; with
`--with-files` they are copied into the backup as `files/<root>/<path>` and verified there.
"""

import hashlib
import json
import shutil
from contextlib import ExitStack
from pathlib import Path

from app import __version__
from app.retention.kinds import KINDS, ROOTS, StoredFile
from app.timeutil import utcnow

FORMAT = "interview-room-backup/1"
MANIFEST = "manifest.json"
FILES = "files"
CHUNK = 1024 * 1024


def app_version() -> str:
    return __version__  # the one place it is written (app/__init__.py)


def hash_file(path: Path, copy_to: Path | None = None) -> tuple[int, str]:
    """Size and SHA-256 of `path`, read once; written to `copy_to` on the way when given."""
    digest = hashlib.sha256()
    size = 0
    with ExitStack() as files:
        source = files.enter_context(open(path, "rb"))
        out = None
        if copy_to is not None:
            copy_to.parent.mkdir(parents=True, exist_ok=True)
            out = files.enter_context(open(copy_to, "wb"))
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
    if copy_to is not None:
        shutil.copystat(path, copy_to)
    return size, digest.hexdigest()


def _inside(root: Path, relative: str) -> Path | None:
    path = (root / relative).resolve()
    return path if path.is_relative_to(root.resolve()) else None


def collect_files(folder: Path, copy: bool) -> tuple[list[dict], list[str]]:
    """One manifest entry per stored file, and one line per file that could not be read."""
    entries: list[dict] = []
    problems: list[str] = []
    for kind in KINDS:
        for stored in kind.stored_files():
            path = _inside(ROOTS[stored.root](), stored.path)
            where = f"{stored.kind}: {stored.record}: {stored.root}/{stored.path}"
            if path is None:
                problems.append(f"{where}: lies outside its folder, not backed up")
                continue
            if not path.is_file():
                problems.append(f"{where}: missing on disk")
                continue
            copy_to = folder / FILES / stored.root / stored.path if copy else None
            try:
                size, sha256 = hash_file(path, copy_to)
            except OSError as problem:
                problems.append(f"{where}: unreadable: {problem}")
                continue
            if stored.expected_sha256 and sha256 != stored.expected_sha256.lower():
                problems.append(
                    f"{where}: SHA-256 differs from the one verified when it was stored"
                )
            entries.append(_entry(stored, size, sha256))
    return entries, problems


def _entry(stored: StoredFile, size: int, sha256: str) -> dict:
    return {
        "kind": stored.kind,
        "root": stored.root,
        "path": stored.path,
        "record": stored.record,
        "exam_id": stored.exam_id,
        "candidate_id": stored.candidate_id,
        "size": size,
        "sha256": sha256,
    }


def write_manifest(folder: Path, manifest: dict) -> None:
    manifest = {"format": FORMAT, "created_at": utcnow().isoformat(), **manifest}
    target = folder / MANIFEST
    target.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def read_manifest(folder: Path) -> dict:
    """The manifest, or ValueError saying why it cannot be read."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{folder / MANIFEST}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise ValueError(f"{folder / MANIFEST}: unreadable: {problem}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{folder / MANIFEST}: not a manifest of format {FORMAT}")
    return manifest


def file_problems(folder: Path, manifest: dict) -> list[str]:
    """Every listed file hashed again: in the backup when copied, else where it lives now."""
    problems = []
    copied = bool(manifest.get("files_copied"))
    for entry in manifest.get("files", []):
        try:
            root, relative = entry["root"], entry["path"]
            base = folder / FILES / root if copied else ROOTS[root]()
            size, sha256 = entry["size"], entry["sha256"]
        except (KeyError, TypeError):
            problems.append(f"manifest entry unreadable: {entry!r}")
            continue
        where = f"{entry.get('kind')}: {entry.get('record')}: {root}/{relative}"
        path = _inside(base, relative)
        if path is None or not path.is_file():
            problems.append(f"{where}: missing ({base / relative})")
            continue
        try:
            found_size, found_sha = hash_file(path)
        except OSError as problem:
            problems.append(f"{where}: unreadable: {problem}")
            continue
        if found_size != size:
            problems.append(f"{where}: {found_size} bytes, the manifest says {size}")
        elif found_sha != sha256:
            problems.append(f"{where}: SHA-256 differs from the manifest")
    return problems
