"""Violation flags (违纪) with a kind and a note; the candidate is found by typing (finder.py)."""

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app import audit, db, htmx
from app.day.consoles import fragment
from app.models import Candidate, Panel, User, Violation
from app.routes.assistant.blueprints import bp
from app.routes.assistant.finder import (
    LIMIT,
    candidate_of_panel,
    clean,
    find_candidates,
    typed_candidate,
)
from app.routes.assistant.scope import console_url, my_panel
from app.security.input_guard import database_id

# The kinds as stored (and audited, and counted on HR's overview), with what the form says.
VIOLATION_KINDS = ["人像离屏", "接打电话", "与他人交流", "切屏", "其他"]
KIND_LABELS = {
    "人像离屏": _l("Face out of the picture"),
    "接打电话": _l("Phone call"),
    "与他人交流": _l("Talking to someone"),
    "切屏": _l("Switched away from the page"),
    "其他": _l("Other"),
}
OTHER = "其他"
NOTE_MAX = 500


# --- violations ---------------------------------------------------------------------------------


def violation_context(panel: Panel, **extra) -> dict:
    recent = db.session.execute(
        select(Violation, Candidate.name, User.display_name)
        .join(Candidate, Candidate.id == Violation.candidate_id)
        .outerjoin(User, User.id == Violation.flagged_by_id)
        .where(Candidate.panel_id == panel.id)
        .order_by(Violation.id.desc())
        .limit(10)
    ).all()
    context = {
        "panel": panel,
        "chosen": None,  # the candidate the form keeps after a refusal
        "recent": recent,
        "kinds": VIOLATION_KINDS,
        "kind_labels": KIND_LABELS,
        "errors": [],
        "saved": None,
        "values": {},
    }
    context.update(extra)
    return context


@bp.get("/panels/<int:panel_id>/violations/candidates")
def find_violation_candidates(panel_id: int):
    """The finder's answer: the options (at most LIMIT) for what was typed, as a fragment."""
    panel = my_panel(panel_id)
    query = clean(request.args.get("q") or request.args.get("candidate"))
    found = find_candidates(panel, query, LIMIT + 1)
    return fragment(
        render_template(
            "assistant/_candidate_options.html",
            found=found[:LIMIT],
            more=len(found) > LIMIT,
            query=query,
        )
    )


def _chosen_candidate(panel: Panel) -> tuple[Candidate | None, str | None]:
    """The candidate the form names: the finder's id, else (no JavaScript) what was typed."""
    candidate_id = request.form.get("candidate_id", type=database_id)
    typed = clean(request.form.get("candidate"))
    if candidate_id is not None:
        candidate = candidate_of_panel(panel, candidate_id)
        return candidate, None if candidate else _("No such candidate on this panel.")
    if request.form.get("candidate_id"):
        return None, _("No such candidate on this panel.")
    if not typed:
        return None, _("Choose a candidate.")
    candidate, matched = typed_candidate(panel, typed)
    if candidate is not None:
        return candidate, None
    if matched:
        return None, _("Several candidates match “%(typed)s”: type the lot number.", typed=typed)
    return None, _("No candidate of this panel matches “%(typed)s”.", typed=typed)


@bp.post("/panels/<int:panel_id>/violations")
def flag_violation(panel_id: int):
    panel = my_panel(panel_id)
    back = console_url(panel)
    kind = request.form.get("kind", "")
    note = (request.form.get("note") or "").replace("\r\n", "\n").strip()
    candidate, problem = _chosen_candidate(panel)
    errors = [problem] if problem else []
    if kind not in VIOLATION_KINDS:
        errors.append(_("Choose the kind of violation."))
    if kind == OTHER and not note:
        errors.append(_("Describe it when choosing “Other”."))
    if len(note) > NOTE_MAX:
        errors.append(_("At most %(n)s characters in the note.", n=NOTE_MAX))
    if errors:
        if htmx:
            context = violation_context(
                panel,
                errors=errors,
                chosen=candidate,
                values={
                    "candidate": clean(request.form.get("candidate")),
                    "kind": kind,
                    "note": note,
                },
            )
            return fragment(render_template("assistant/_violation_form.html", v=context), None, 422)
        for error in errors:
            flash(error, "error")
        return redirect(back)
    assert candidate is not None, "refused above: no candidate"
    violation = Violation(
        candidate_id=candidate.id, kind=kind, note=note, flagged_by_id=current_user.id
    )
    db.session.add(violation)
    db.session.flush()
    audit.record(
        "violation.flagged", candidate=candidate, violation=violation.id, type=kind, note=note
    )
    db.session.commit()
    message = _(
        "Recorded for %(name)s: %(kind)s.", name=candidate.name, kind=str(KIND_LABELS[kind])
    )
    if htmx:
        context = violation_context(panel, saved=message)
        return fragment(render_template("assistant/_violation_form.html", v=context))
    flash(message, "success")
    return redirect(back)
