"""Who may see the candidate pages, and how an action is answered (done or refused)."""

from functools import wraps

from flask import flash, g, redirect, render_template, url_for

from app import db, htmx, journey
from app.decorators import full_page_redirect
from app.journey import Actor, Refused
from app.routes.candidate.context import final_message
from app.timeutil import utcnow


def go(target: str):
    return full_page_redirect(target, 303)


def signed_in(view):
    """Signed-in candidates only; others go to the code page (or the takeover notice) as a
    whole page, since an htmx poll would otherwise swap the code page into the fragment."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("candidate") is None:
            if g.get("candidate_taken_over"):
                return go(url_for("candidate.taken_over"))
            return go(url_for("candidate.index"))
        return view(*args, **kwargs)

    return wrapped


def refused(message: str, status: int = 409):
    """A refused action: an inline message for htmx, else a flash on the candidate's page."""
    if htmx:
        return render_template("candidate/_message.html", message=message), status
    flash(message, "error")
    return redirect(url_for("candidate.home"), 303)


def act(move: str, done_message: str | None = None, **params):
    candidate = g.candidate
    try:
        journey.perform(candidate.id, move, Actor.of_candidate(candidate), utcnow(), **params)
    except Refused as refusal:
        db.session.refresh(candidate)
        return refused(final_message(candidate) or refusal.message)
    if done_message:
        flash(done_message, "success")
    return go(url_for("candidate.home"))
