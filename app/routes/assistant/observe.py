"""巡考 on the assistant's console: the panel's live one-to-one calls (debug calls, and any other
kind the console places), each to join as an observer. The interview call is on the examiners'
page, the rest room on this one; both give a 巡考 the observer's token too (embed_for_staff)."""

from flask import abort, g, render_template
from sqlalchemy import or_, select

from app import db
from app.day.consoles import fragment, not_modified, staff_user
from app.jitsi.embed import embed_for_staff
from app.models import Call, Candidate, Panel, User
from app.routes.assistant.blueprints import bp
from app.routes.assistant.scope import my_panel

LIVE = ("ringing", "accepted")


def _only_observers() -> None:
    # An assistant has her own call on the console; other assistants' calls are not hers to join.
    if not g.get("read_only"):
        abort(403)


def live_calls(panel: Panel) -> list[tuple[Call, Candidate, str]]:
    """(call, candidate, who placed it) for every live call of the panel but the interview."""
    rows = db.session.execute(
        select(Call, Candidate, User.display_name)
        .join(Candidate, Candidate.id == Call.candidate_id)
        .outerjoin(User, User.id == Call.called_by_id)
        .where(
            or_(Call.panel_id == panel.id, Candidate.panel_id == panel.id),
            Call.kind != "interview",
            Call.outcome.in_(LIVE),
        )
        .order_by(Call.id)
    ).all()
    return [(call, candidate, caller or "") for call, candidate, caller in rows]


def observe_context(panel: Panel) -> dict:
    calls = live_calls(panel)
    etag = f"ob{panel.id}-" + ".".join(f"{c.id}{c.outcome[0]}" for c, _, _ in calls)
    return {"panel": panel, "calls": calls, "etag": etag}


@bp.get("/panels/<int:panel_id>/observe")
def observe_calls(panel_id: int):
    _only_observers()
    context = observe_context(my_panel(panel_id))
    return not_modified(context["etag"]) or fragment(
        render_template("assistant/_observe_calls.html", ob=context), context["etag"]
    )


@bp.get("/panels/<int:panel_id>/observe/<int:call_id>")
def observe_call(panel_id: int, call_id: int):
    _only_observers()
    panel = my_panel(panel_id)
    match = next((row for row in live_calls(panel) if row[0].id == call_id), None)
    if match is None:
        abort(404)
    call, candidate, caller = match
    embed = embed_for_staff(staff_user(), call.room, call.kind, "assistant")
    return fragment(
        render_template(
            "assistant/_observed_call.html",
            panel=panel,
            call=call,
            candidate=candidate,
            caller=caller,
            embed=embed,
        )
    )
