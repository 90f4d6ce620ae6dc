"""The polled status fragment (`/me/state`): cheap 304s while nothing changed."""

from datetime import datetime

from flask import g, make_response, redirect, render_template, request, url_for

from app import htmx
from app.day.poll import ahead_in_queue, page_stage, poll_etag, poll_headers
from app.routes.candidate.access import go, signed_in
from app.routes.candidate.blueprints import bp
from app.routes.candidate.context import bring_up_to_date, next_poll_seconds, poll_context
from app.timeutil import utcnow


@bp.get("/me/state")
def state():
    """The polled fragment, the full way: settle, compare, 304 or the fragment.

    Most polls change nothing: the poll's own lane in front of Flask (app/day/poll_lane.py)
    answers those from one plain SELECT before they get here. What reaches this view is a
    page's first poll, a poll the quick answer stepped aside from (something is due or has
    changed), or one that is not htmx's; asking the quick answer again would only repeat its
    SELECT. The signed-in candidate is loaded by `load_candidate`, as for every page."""
    return _state_in_full(utcnow())


@signed_in
def _state_in_full(now: datetime):
    if not htmx:
        return redirect(url_for("candidate.home"))
    candidate = g.candidate
    bring_up_to_date(candidate, now)
    stage = page_stage(candidate)
    seconds: int | None = None
    ahead: int | None = None
    if request.args.get("stage") != stage:
        response = go(url_for("candidate.home"))
    else:
        ahead = ahead_in_queue(candidate, stage)
        etag = poll_etag(candidate, stage, now, ahead)
        if request.if_none_match.contains(etag):
            # Unchanged: no fragment to build (its context costs queries); the interval as the
            # quick path gives it (a released page keeps its last full answer's).
            response = make_response("", 304)
            seconds = None
            if stage != "released":  # a released page keeps its last full answer's interval
                seconds = next_poll_seconds(candidate, stage, now, None, ahead, ringing=False)
        else:
            ctx = poll_context(candidate, stage, now, etag, ahead)
            seconds = ctx["poll_seconds"]
            response = make_response(render_template("candidate/_status.html", **ctx))
        response.set_etag(etag)
    return poll_headers(response, now, seconds, ahead)
