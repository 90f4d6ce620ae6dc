"""HR's live overview of an exam (every candidate, their times and counts) and the timelines.

The overview table polls every few seconds and answers 304 while nothing changed
(app.day.overview.overview_version); the rules live in app/day/overview.py.
"""

import hashlib

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app import htmx
from app.day.consoles import fragment, not_modified, refusal_for_staff, settle_due
from app.day.overview import (
    SEARCH_MAX,
    TIMELINE_PAGE_SIZE,
    build_overview,
    code_guess_alert,
    overview_version,
    timeline,
    timeline_count,
    timeline_csv,
)
from app.exports import download
from app.journey import MOVES, Actor, Refused, perform
from app.models import Candidate
from app.models.candidate import STATE_LABELS, CandidateState
from app.recordings.appearances import recordings_of
from app.retention.review import REASON_WORDS, review_state
from app.routes.hr.blueprints import overview_bp as bp
from app.routes.hr.lookups import child_or_404
from app.routes.hr.overrides import offered_overrides, other_panels
from app.security.input_guard import database_id
from app.timeutil import utcnow

POLL_SECONDS = 5


def _filters(panel_ids: set[int]) -> dict:
    """The filters from the query string; anything unknown is ignored, never an error."""
    panel = request.args.get("panel", type=database_id)
    state = request.args.get("state", "")
    return {
        "panel_id": panel if panel in panel_ids else None,
        "state": state if state in {s.value for s in CandidateState} else None,
        "attention_only": request.args.get("attention") == "1",
        "query": (request.args.get("q") or "").strip()[:SEARCH_MAX],
    }


def _page() -> int:
    """?page=N; nonsense is the first page, and build_overview clamps past the last."""
    page = request.args.get("page", type=database_id)
    return page or 1


@bp.get("/exams/<int:exam_id>/overview")
def overview(exam_id: int):
    exam = g.exam
    now = utcnow()
    # The board is only as true as the time rules applied to it: lapsed calls, the cut-off.
    settle_due(now, exam_id=exam.id)
    filters = _filters({p.id for p in exam.panels})
    code_alert = code_guess_alert(exam, now)
    page = _page()
    # The code-guessing count lives in Redis, the filters, search and page in the URL: all are
    # in the version (the search as a digest: an ETag is ASCII).
    typed = hashlib.sha1(filters["query"].encode()).hexdigest()[:10] if filters["query"] else ""
    shown = (
        f"{filters['panel_id'] or ''}.{filters['state'] or ''}.{int(filters['attention_only'])}"
        f".{typed}.{page}"
    )
    etag = f"{overview_version(exam.id)}-{code_alert['failures']}-{shown}"
    if htmx:
        cached = not_modified(etag)
        if cached is not None:
            return cached
    data = build_overview(exam, now, code_alert=code_alert, page=page, **filters)
    table = _render_table(data, filters, etag)
    if htmx:
        return fragment(table, etag)
    return render_template(
        "hr/overview.html", exam=exam, data=data, filters=filters, table=table, states=STATE_LABELS
    )


def _render_table(data, filters, etag: str) -> Markup:
    return Markup(
        render_template(
            "hr/overview_table.html",
            data=data,
            filters=filters,
            etag=etag,
            poll_url=url_for(
                "hr_overview.overview", exam_id=data.exam.id, **_query(filters), page=data.page
            ),
            page_url=lambda n: url_for(
                "hr_overview.overview", exam_id=data.exam.id, **_query(filters), page=n
            ),
            panel_names=dict(data.panels),
            poll_every=f"{POLL_SECONDS}s",
            state_labels=STATE_LABELS,
        )
    )


def _query(filters: dict) -> dict:
    query = {}
    if filters["panel_id"]:
        query["panel"] = filters["panel_id"]
    if filters["state"]:
        query["state"] = filters["state"]
    if filters["attention_only"]:
        query["attention"] = 1
    if filters["query"]:
        query["q"] = filters["query"]
    return query


@bp.get("/exams/<int:exam_id>/candidates/<int:candidate_id>/timeline")
def candidate_timeline(exam_id: int, candidate_id: int):
    exam = g.exam
    candidate = child_or_404(Candidate, candidate_id)
    if request.args.get("format") == "csv":
        return download(timeline_csv(candidate), f"timeline-{candidate.exam_id}-{candidate.id}.csv")
    # A candidate of a long day (reconnects, switches) has thousands of events: one page here,
    # all of them in the CSV.
    total = timeline_count(candidate)
    pages = max(1, -(-total // TIMELINE_PAGE_SIZE))
    page = min(_page(), pages)
    entries = timeline(candidate, limit=TIMELINE_PAGE_SIZE, offset=(page - 1) * TIMELINE_PAGE_SIZE)
    return render_template(
        "hr/timeline.html",
        exam=exam,
        candidate=candidate,
        entries=entries,
        events_total=total,
        page=page,
        pages=pages,
        first_shown=(page - 1) * TIMELINE_PAGE_SIZE + 1 if entries else 0,
        recordings=recordings_of(candidate),
        may_disqualify=candidate.state in MOVES["disqualify"].sources,
        overrides=offered_overrides(candidate, utcnow()),
        other_panels=other_panels(candidate),
        under_review=review_state(candidate),
        REVIEW_WORDS=REASON_WORDS,
    )


DISQUALIFY_REASON_MAX = 500


@bp.post("/exams/<int:exam_id>/candidates/<int:candidate_id>/disqualify")
def disqualify(exam_id: int, candidate_id: int):
    """取消面试资格: for a violation seen on the day or in the recordings afterwards. The reason is
    required and audited; the candidate's page says so, and exports mark them 取消资格."""
    exam = g.exam
    candidate = child_or_404(Candidate, candidate_id)
    back = url_for("hr_overview.candidate_timeline", exam_id=exam.id, candidate_id=candidate.id)
    reason = (request.form.get("reason") or "").strip()[:DISQUALIFY_REASON_MAX]
    try:
        perform(candidate.id, "disqualify", Actor.staff(current_user), utcnow(), reason=reason)
    except Refused as refusal:
        flash(refusal_for_staff(refusal, candidate.name, _("disqualify")), "error")
        return redirect(back)
    flash(_("%(name)s is disqualified.", name=candidate.name), "success")
    return redirect(back)
