"""Recordings page: status, playback (HTTP range requests) and download, for staff of the exam.

HR and admin see every exam and the unassigned recordings; assistants the exams of the panels
they work on; examiners only their own panels' interview-room files, candidates named "考生 07"
(app/recordings/access.py). Candidates are never signed in as staff, so never get here.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import select

from app import db
from app.decorators import guard_blueprint
from app.models import Candidate, Exam, Panel, Recording, RecordingStatus, Role
from app.recordings.access import (
    candidate_label,
    exams_visible_to,
    failed_count_for,
    may_see,
    names_shown_to,
    scoped,
)
from app.recordings.appearances import appearances
from app.recordings.clock import (
    TOLERANCE_MINUTES,
    describe_offset,
    jibri_timezone,
    recording_disagreement,
)
from app.recordings.pulls import retry_recording
from app.recordings.storage import stored_file

bp = Blueprint("recordings", __name__, url_prefix="/staff/recordings")
guard_blueprint(
    bp, Role.ADMIN, Role.HR, Role.EXAMINER, Role.ASSISTANT, read_only_roles=(Role.SUPERVISOR,)
)

IN_PROGRESS = {RecordingStatus.WAITING, RecordingStatus.PULLING}


@bp.app_context_processor
def _failed_recordings():
    """`failed_recordings()` in staff templates: a failure must not wait for someone to look."""

    def failed_recordings() -> int:
        if not current_user.is_authenticated:
            return 0
        return failed_count_for(current_user)

    return {"failed_recordings": failed_recordings}


def _recording_or_404(recording_id: int) -> Recording:
    recording = db.session.get(Recording, recording_id)
    if recording is None:
        abort(404)
    if not may_see(current_user, recording):
        abort(403)
    return recording


def _exam_or_403(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        abort(404)
    if exam.id not in {e.id for e in exams_visible_to(current_user)}:
        abort(403)
    return exam


def _rows(recordings: list[Recording]) -> list[dict]:
    candidates = {
        c.id: c
        for c in db.session.scalars(
            select(Candidate).where(
                Candidate.id.in_({r.candidate_id for r in recordings if r.candidate_id})
            )
        )
    }
    panels = {
        p.id: p
        for p in db.session.scalars(
            select(Panel).where(Panel.id.in_({r.panel_id for r in recordings if r.panel_id}))
        )
    }
    inside = appearances(recordings)
    user = current_user._get_current_object()
    rows = []
    for r in recordings:
        # An unassigned file has neither.
        candidate = candidates.get(r.candidate_id) if r.candidate_id is not None else None
        off = recording_disagreement(r)
        rows.append(
            {
                "rec": r,
                # The file name's time minus the Jibri host's clock, when they disagree.
                "clock_off": describe_offset(off) if off is not None else None,
                "candidate": candidate,
                # The name, or "考生 07" for an examiner: templates show only this.
                "label": candidate_label(user, candidate) if candidate is not None else None,
                "panel": panels.get(r.panel_id) if r.panel_id is not None else None,
                # An interview-room file holds every candidate of the panel from its start on.
                "appearances": [
                    {
                        "label": candidate_label(user, a.candidate),
                        "lot_number": a.candidate.lot_number,
                        "offset_seconds": a.offset_seconds,
                    }
                    for a in inside.get(r.id, [])
                ],
            }
        )
    return rows


@bp.get("/")
def index():
    exams = exams_visible_to(current_user)
    counts: dict[int, dict[str, int]] = {}
    if exams:
        for exam_id, status in db.session.execute(
            scoped(
                select(Recording.exam_id, Recording.status).where(
                    Recording.exam_id.in_([e.id for e in exams])
                ),
                current_user,
            )
        ):
            if exam_id is None:  # never: IN matches no NULL; the column itself is nullable
                continue
            counts.setdefault(exam_id, {}).setdefault(status, 0)
            counts[exam_id][status] += 1
    unassigned = None
    if current_user.role in (Role.HR, Role.ADMIN):
        unassigned = db.session.scalar(
            select(db.func.count(Recording.id)).where(Recording.exam_id.is_(None))
        )
    return render_template(
        "recordings/index.html", exams=exams, counts=counts, unassigned=unassigned
    )


def _clock_context() -> dict:
    """What the clock warning names (app/recordings/clock.py)."""
    return {
        "jibri_timezone": jibri_timezone(current_app.config),
        "clock_tolerance": TOLERANCE_MINUTES,
    }


def _list_page(title: str, recordings: list[Recording], exam: Exam | None, fragment_url: str):
    rows = _rows(recordings)
    busy = any(r.status in IN_PROGRESS for r in recordings)
    context = {
        **_clock_context(),
        "title": title,
        "rows": rows,
        "exam": exam,
        "busy": busy,
        "fragment_url": fragment_url,
        "show_names": names_shown_to(current_user),
    }
    if request.args.get("fragment"):
        return render_template("recordings/_table.html", **context)
    return render_template("recordings/list.html", **context)


@bp.get("/exam/<int:exam_id>")
def exam_recordings(exam_id: int):
    exam = _exam_or_403(exam_id)
    recordings = list(
        db.session.scalars(
            scoped(select(Recording).where(Recording.exam_id == exam.id), current_user).order_by(
                Recording.candidate_id.is_(None),
                Recording.candidate_id,
                Recording.started_at,
                Recording.id,
            )
        )
    )
    return _list_page(
        exam.name,
        recordings,
        exam,
        url_for("recordings.exam_recordings", exam_id=exam.id, fragment=1),
    )


@bp.get("/unassigned")
def unassigned():
    if current_user.role not in (Role.HR, Role.ADMIN):
        abort(403)
    recordings = list(
        db.session.scalars(
            select(Recording).where(Recording.exam_id.is_(None)).order_by(Recording.id.desc())
        )
    )
    return _list_page(
        _("Unassigned"), recordings, None, url_for("recordings.unassigned", fragment=1)
    )


@bp.get("/<int:recording_id>")
def show(recording_id: int):
    recording = _recording_or_404(recording_id)
    row = _rows([recording])[0]
    start_at = request.args.get("t", type=int)
    return render_template(
        "recordings/show.html",
        **_clock_context(),
        row=row,
        rec=recording,
        show_names=names_shown_to(current_user),
        playable=stored_file(recording) is not None,
        start_at=start_at if start_at and start_at > 0 else None,
    )


@bp.get("/<int:recording_id>/file")
def file(recording_id: int):
    recording = _recording_or_404(recording_id)
    path = stored_file(recording)
    if path is None:
        abort(404)
    download = request.args.get("download") == "1"
    # conditional=True answers Range requests with 206 and Content-Range, so the player can seek.
    response = send_file(
        path,
        mimetype="video/mp4" if path.suffix.lower() == ".mp4" else None,
        as_attachment=download,
        download_name=recording.file_name,
        conditional=True,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:recording_id>/retry")
def retry(recording_id: int):
    recording = _recording_or_404(recording_id)
    back = (
        url_for("recordings.exam_recordings", exam_id=recording.exam_id)
        if recording.exam_id
        else url_for("recordings.unassigned")
    )
    if recording.status != RecordingStatus.FAILED:
        flash(_("Only a failed recording can be retried."), "error")
        return redirect(back)
    try:
        retry_recording(recording, actor=current_user._get_current_object())
    except RedisError:
        flash(_("The queue is unavailable; try again shortly."), "error")
        return redirect(back)
    flash(_("The pull is queued again."), "ok")
    return redirect(back)
