"""The polled status fragment (`/me/state`): cheap 304s while nothing changed."""

from datetime import datetime

from flask import g, make_response, redirect, render_template, request, session, url_for

from app import htmx
from app.day.poll import page_stage, poll_etag, quick_answer
from app.day.session import load_signed_in_candidate, reads_candidate_itself
from app.routes.candidate.access import go, signed_in
from app.routes.candidate.blueprints import bp
from app.routes.candidate.context import (
    ahead_in_queue,
    bring_up_to_date,
    ms,
    next_poll_seconds,
    poll_context,
)
from app.timeutil import utcnow


@bp.get("/me/state")
@reads_candidate_itself
def state():
    """The polled fragment. Cheap when nothing changed: settle, compare, 304.

    Most polls change nothing; `candidate_poll.quick_not_modified` answers those from one
    plain SELECT. Everything else (and every page that is not htmx's) takes the full way."""
    now = utcnow()
    if htmx and request.if_none_match:  # a page's first poll has nothing to compare
        answer = quick_answer(
            session.get("candidate_id"),
            session.get("candidate_nonce"),
            request.args.get("stage"),
            request.if_none_match,
            now,
        )
        if answer is not None:
            etag, seconds = answer
            response = make_response("", 304)
            response.set_etag(etag)
            return poll_headers(response, now, seconds)
    load_signed_in_candidate()
    return _state_in_full(now)


@signed_in
def _state_in_full(now: datetime):
    if not htmx:
        return redirect(url_for("candidate.home"))
    candidate = g.candidate
    bring_up_to_date(candidate, now)
    stage = page_stage(candidate)
    seconds: int | None = None
    if request.args.get("stage") != stage:
        response = go(url_for("candidate.home"))
    else:
        etag = poll_etag(candidate, stage, now)
        if request.if_none_match.contains(etag):
            # Unchanged: no fragment to build (its context costs queries); the interval as the
            # quick path gives it (a released page keeps its last full answer's).
            response = make_response("", 304)
            seconds = None
            if stage != "released":  # a released page keeps its last full answer's interval
                ahead = ahead_in_queue(candidate, stage)
                seconds = next_poll_seconds(candidate, stage, now, None, ahead, ringing=False)
        else:
            ctx = poll_context(candidate, stage, now, etag)
            seconds = ctx["poll_seconds"]
            response = make_response(render_template("candidate/_status.html", **ctx))
        response.set_etag(etag)
    return poll_headers(response, now, seconds)


def poll_headers(response, now: datetime, seconds: int | None = None):
    """The poll's own headers, on every answer of it (also app/day/poll_lane.py's 304)."""
    # When to ask next (app/day/poll_interval.py), on 304s too: a 304 carries no body.
    if seconds is not None:
        response.headers["X-Poll-Interval"] = str(seconds)
    # The countdowns re-sync to this on every poll, 304 included: the browser's clock is
    # never trusted, only its elapsed time between two polls.
    response.headers["X-Server-Now-Ms"] = str(ms(now))
    response.headers["Cache-Control"] = "no-store"
    return response
