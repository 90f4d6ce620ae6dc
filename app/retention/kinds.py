"""The kinds of stored personal data: one small entry each, read by the backup's manifest
(app/backup/manifest.py) and by retention (app/retention/purge.py).

A kind names the exam setting with its days (Exam.retain_*_days) and gives two functions:
`stored_files()`, every file of that kind the database refers to (what a backup must hold), and
`items(exam)`, what retention would remove for one exam: each item its files, the row that
refers to them, and the candidates whose review keeps it. Adding a kind (face-check stills,
issue 19) is one more entry in KINDS with its two functions; nothing else changes.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from app import db
from app.day.id_photo import photo_files_of, photo_root
from app.faces.stills import files_of_still, remove_still_row, stills_dir
from app.models import Candidate, Exam, FaceStill, Recording, RecordingStatus
from app.recordings.storage import recordings_dir

# The folders stored paths are relative to, by the name a manifest uses for them.
ROOTS: dict[str, Callable[[], Path]] = {
    "recordings": recordings_dir,
    "id_photos": photo_root,
    "face_stills": stills_dir,
}


@dataclass(frozen=True)
class StoredFile:
    kind: str
    root: str  # a key of ROOTS
    path: str  # relative to that root, as the database keeps it
    record: str  # the row that refers to it: "recording 12", "candidate 7"
    exam_id: int | None
    candidate_id: int | None
    # What the file was verified against when it was stored (a recording's notice), if known.
    expected_sha256: str | None = None

    @property
    def absolute(self) -> Path:
        return ROOTS[self.root]() / self.path


@dataclass
class Item:
    """One thing retention removes in one transaction: its files and the row that refers to them."""

    kind: str
    record: str
    exam_id: int
    candidate_id: int | None  # whose timeline the purge is written to
    concerns: frozenset[int]  # whose review (app/retention/review.py) keeps it
    files: list[Path]
    # Deletes or clears the row's reference in the open transaction (the row locked first) and
    # returns what the audit keeps of it; None when the row has already gone.
    remove_rows: Callable[[], dict | None]
    size: int = field(default=0)


@dataclass(frozen=True)
class DataKind:
    name: str
    setting: str  # the Exam attribute with the days after the login closes; None = keep
    label: LazyString
    stored_files: Callable[[], Iterable[StoredFile]]
    items: Callable[[Exam], Iterable[Item]]


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


# --- recordings ----------------------------------------------------------------------------------


def _recording_files() -> Iterable[StoredFile]:
    query = (
        select(Recording)
        .where(Recording.status == RecordingStatus.STORED, Recording.stored_path.is_not(None))
        .order_by(Recording.id)
    )
    for r in db.session.scalars(query):
        yield StoredFile(
            "recordings",
            "recordings",
            r.stored_path or "",
            f"recording {r.id}",
            r.exam_id,
            r.candidate_id,
            r.expected_sha256,
        )


def _who_is_in(recording: Recording) -> frozenset[int]:
    """Whose review keeps a file: a debug or spot-check call's file shows one candidate; an
    interview or rest room's shows everyone of the panel in turn, and a file linked to nobody
    may show anyone of the exam."""
    if recording.candidate_id is not None and recording.room_kind not in ("interview", "rest"):
        return frozenset({recording.candidate_id})
    where = (
        Candidate.panel_id == recording.panel_id
        if recording.panel_id is not None
        else Candidate.exam_id == recording.exam_id
    )
    ids = set(db.session.scalars(select(Candidate.id).where(where)))
    if recording.candidate_id is not None:
        ids.add(recording.candidate_id)
    return frozenset(ids)


def _recording_items(exam: Exam) -> Iterable[Item]:
    # Waiting and pulling rows have a job at work on them: never pulled from under it. A failed
    # row's file never arrived, but the row still names the candidate and the room.
    query = (
        select(Recording)
        .where(
            Recording.exam_id == exam.id,
            Recording.status.in_([RecordingStatus.STORED, RecordingStatus.FAILED]),
        )
        .order_by(Recording.id)
    )
    root = recordings_dir()
    for r in db.session.scalars(query):
        files = [root / r.stored_path] if r.stored_path else []
        files = [p for p in files if p.is_file()]
        yield Item(
            kind="recordings",
            record=f"recording {r.id}",
            exam_id=exam.id,
            candidate_id=r.candidate_id,
            concerns=_who_is_in(r),
            files=files,
            remove_rows=_remove_recording(r.id),
            size=_size(files),
        )


def _remove_recording(recording_id: int) -> Callable[[], dict | None]:
    def remove() -> dict | None:
        r = db.session.get(Recording, recording_id, with_for_update=True)
        if r is None:
            return None
        kept = {
            "recording": r.id,
            "room": r.room,
            "room_kind": r.room_kind,
            "file": f"{r.session_folder}/{r.file_name}",
            "status": r.status,
            "size": r.expected_size,
            "sha256": r.expected_sha256,
            "started_at": r.started_at,
        }
        db.session.delete(r)
        return kept

    return remove


# --- ID photos -----------------------------------------------------------------------------------


def _id_photo_files() -> Iterable[StoredFile]:
    query = select(Candidate).where(Candidate.id_photo_path.is_not(None)).order_by(Candidate.id)
    for c in db.session.scalars(query):
        yield StoredFile(
            "id_photos", "id_photos", c.id_photo_path or "", f"candidate {c.id}", c.exam_id, c.id
        )


def _id_photo_items(exam: Exam) -> Iterable[Item]:
    query = select(Candidate).where(Candidate.exam_id == exam.id).order_by(Candidate.id)
    for c in db.session.scalars(query):
        # The files on disk whatever the row says: a purge killed after the unlink and before its
        # commit leaves the row, one killed the other way round (never: see purge) the file.
        files = photo_files_of(c.id)
        if not files and not c.id_photo_path:
            continue
        yield Item(
            kind="id_photos",
            record=f"candidate {c.id}",
            exam_id=exam.id,
            candidate_id=c.id,
            concerns=frozenset({c.id}),
            files=files,
            remove_rows=_clear_id_photo(c.id),
            size=_size(files),
        )


def _clear_id_photo(candidate_id: int) -> Callable[[], dict | None]:
    def remove() -> dict | None:
        c = db.session.get(Candidate, candidate_id, with_for_update=True)
        if c is None:
            return None
        kept = {"candidate": c.id, "path": c.id_photo_path}
        c.id_photo_path = None
        return kept

    return remove


def _face_still_files() -> Iterable[StoredFile]:
    for still in db.session.scalars(select(FaceStill).order_by(FaceStill.id)):
        yield StoredFile(
            "face_stills",
            "face_stills",
            still.path,
            f"face still {still.id}",
            still.exam_id,
            still.candidate_id,
        )


def _face_still_items(exam: Exam) -> Iterable[Item]:
    # Each still with its descriptor, one by one: a still is one candidate's, kept while hers is
    # under review (the signal it raised may be the evidence).
    query = select(FaceStill).where(FaceStill.exam_id == exam.id).order_by(FaceStill.id)
    for still in db.session.scalars(query):
        files = files_of_still(still)
        yield Item(
            kind="face_stills",
            record=f"face still {still.id}",
            exam_id=exam.id,
            candidate_id=still.candidate_id,
            concerns=frozenset({still.candidate_id}),
            files=files,
            remove_rows=_remove_still(still.id),
            size=_size(files),
        )


def _remove_still(still_id: int) -> Callable[[], dict | None]:
    return lambda: remove_still_row(still_id)


KINDS: list[DataKind] = [
    DataKind(
        "recordings",
        "retain_recordings_days",
        _l("Recordings"),
        _recording_files,
        _recording_items,
    ),
    DataKind(
        "id_photos",
        "retain_id_photos_days",
        _l("ID photos"),
        _id_photo_files,
        _id_photo_items,
    ),
    DataKind(
        "face_stills",
        "retain_evidence_days",
        _l("Face-check stills"),
        _face_still_files,
        _face_still_items,
    ),
]

# Every Exam setting a kind may read, with its words (the exam form and page show all three,
# also before the kind that reads one is stored).
RETENTION_SETTINGS = {
    "retain_recordings_days": _l("Recordings"),
    "retain_id_photos_days": _l("ID photos"),
    "retain_evidence_days": _l("Face-check and evidence images"),
}
