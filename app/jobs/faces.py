"""The face comparison job: analyse one still, compare it, record the verdict and any signal.

Idempotent (RQ delivers at least once): a still that has its verdict is left alone. A still whose
bytes do not decode fails at once (未能比对); any other error is retried once and then recorded
as 未能比对 with the reason: the assistant decides by eye, the candidate's page never waits.
"""

from __future__ import annotations

from pathlib import Path

from rq import get_current_job

from app import audit, db
from app.faces import engine
from app.faces.signals import record_watch_signals
from app.faces.stills import IDENTITY, reference_of, stills_dir
from app.faces.verdicts import CHINESE, Verdict, thresholds, verdict_of
from app.jobs.queue import job_app_context
from app.models import Candidate, FaceStill
from app.timeutil import utcnow


def analyse_still(still_id: int) -> str:
    with job_app_context():
        return analyse_still_here(still_id)


def analyse_still_here(still_id: int) -> str:
    """The job's work inside an app context (tests and the benchmark call it directly)."""
    still = db.session.get(FaceStill, still_id)
    if still is None:
        return "no such still"
    if still.verdict != Verdict.PENDING:
        return f"already {still.verdict}"
    job = get_current_job()
    last_try = job is None or not job.retries_left
    try:
        _compare(still)
    except engine.NotAnImage as exc:
        db.session.rollback()
        _failed(still_id, f"not an image: {exc}")
        return "failed"
    except Exception as exc:
        db.session.rollback()
        if last_try:
            _failed(still_id, f"{exc.__class__.__name__}: {exc}")
        raise
    db.session.commit()
    return still.verdict


def _compare(still: FaceStill) -> None:
    candidate = db.session.get(Candidate, still.candidate_id)
    assert candidate is not None, "a still belongs to a candidate"
    data = (stills_dir() / still.path).read_bytes()
    analysis = engine.analyse(data)
    took = analysis.ms
    reference = None
    if analysis.descriptor is not None:
        if still.purpose == IDENTITY:
            reference, took = _id_photo_descriptor(still, candidate, took)
        else:
            ref = reference_of(candidate.id)
            if ref is not None and ref.descriptor is not None:
                reference = engine.from_bytes(ref.descriptor)
                still.compared_with = "reference"
                still.reference_still_id = ref.id
    distance = None
    if analysis.descriptor is not None and reference is not None:
        distance = engine.distance(analysis.descriptor, reference)
    still.faces = analysis.faces
    still.descriptor = (
        engine.to_bytes(analysis.descriptor) if analysis.descriptor is not None else None
    )
    still.distance = distance
    still.verdict = verdict_of(analysis.faces, distance, *thresholds())
    still.analysis_ms = took
    still.analysed_at = utcnow()
    if still.purpose == IDENTITY:
        audit.record(
            "face.identity_compared",
            candidate=candidate,
            still_id=still.id,
            verdict=still.verdict,
            label=CHINESE[Verdict(still.verdict)],
            distance=round(distance, 3) if distance is not None else None,
            faces=analysis.faces,
            id_photo_faces=still.reference_faces,
            ms=took,
        )
    else:
        record_watch_signals(still, candidate)


def _id_photo_descriptor(still: FaceStill, candidate: Candidate, took: int):
    """The ID photo's descriptor when the exam asks for the photo and it shows one face."""
    if not candidate.exam.requires_id_photo or not candidate.id_photo_path:
        return None, took
    base = Path(stills_dir())
    path = Path(candidate.id_photo_path)
    photo = path if path.is_absolute() else base / path
    if not photo.is_file():
        return None, took
    analysis = engine.analyse(photo.read_bytes())
    still.compared_with = "id_photo"
    still.reference_faces = analysis.faces
    return analysis.descriptor, took + analysis.ms


def _failed(still_id: int, reason: str) -> None:
    still = db.session.get(FaceStill, still_id)
    if still is None or still.verdict != Verdict.PENDING:
        return
    still.verdict = Verdict.FAILED
    still.error = reason[:200]
    still.analysed_at = utcnow()
    db.session.commit()
