"""Violation flags (违纪) with a kind and a note."""

from flask import abort, flash, redirect, render_template, request
from flask_login import current_user
from sqlalchemy import select

from app import audit, db, htmx
from app.day.consoles import fragment
from app.models import Candidate, Panel, User, Violation
from app.routes.assistant.blueprints import bp
from app.routes.assistant.scope import console_url, my_panel
from app.security.input_guard import database_id

VIOLATION_KINDS = ["人像离屏", "接打电话", "与他人交流", "切屏", "其他"]
NOTE_MAX = 500


# --- violations ---------------------------------------------------------------------------------


def violation_context(panel: Panel, **extra) -> dict:
    candidates = db.session.scalars(
        select(Candidate)
        .where(Candidate.panel_id == panel.id)
        .order_by(
            Candidate.lot_number.is_(None), Candidate.lot_number, Candidate.name, Candidate.id
        )
    ).all()
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
        "candidates": candidates,
        "recent": recent,
        "kinds": VIOLATION_KINDS,
        "errors": [],
        "saved": None,
        "values": {},
    }
    context.update(extra)
    return context


@bp.post("/panels/<int:panel_id>/violations")
def flag_violation(panel_id: int):
    panel = my_panel(panel_id)
    back = console_url(panel)
    candidate_id = request.form.get("candidate_id", type=database_id)
    kind = request.form.get("kind", "")
    note = (request.form.get("note") or "").replace("\r\n", "\n").strip()
    candidate = db.session.get(Candidate, candidate_id) if candidate_id else None
    if candidate is not None and candidate.panel_id != panel.id:
        abort(404)
    errors = []
    if candidate is None:
        errors.append("请选择考生。 Choose a candidate.")
    if kind not in VIOLATION_KINDS:
        errors.append("请选择违纪类型。 Choose the kind of violation.")
    if kind == "其他" and not note:
        errors.append("选择“其他”时请填写说明。 Describe it when choosing 其他 (other).")
    if len(note) > NOTE_MAX:
        errors.append(f"说明最多 {NOTE_MAX} 字。 At most {NOTE_MAX} characters.")
    if errors:
        if htmx:
            context = violation_context(
                panel,
                errors=errors,
                values={"candidate_id": candidate_id, "kind": kind, "note": note},
            )
            return fragment(render_template("assistant/_violation_form.html", v=context), None, 422)
        for error in errors:
            flash(error, "error")
        return redirect(back)
    assert candidate is not None, "refused above: 请选择考生"
    violation = Violation(
        candidate_id=candidate.id, kind=kind, note=note, flagged_by_id=current_user.id
    )
    db.session.add(violation)
    db.session.flush()
    audit.record(
        "violation.flagged", candidate=candidate, violation=violation.id, type=kind, note=note
    )
    db.session.commit()
    message = f"已记录 {candidate.name}：{kind}。 Violation recorded."
    if htmx:
        context = violation_context(panel, saved=message)
        return fragment(render_template("assistant/_violation_form.html", v=context))
    flash(message, "success")
    return redirect(back)
