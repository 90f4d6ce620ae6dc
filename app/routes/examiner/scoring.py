"""Scoring on the examiner console: my sheet (autosaved draft, submit), recusal (回避), the
chief's confirmation, and the panel's result board (成绩当场公布).

Thin routes over app/scoring/service.py (the rules) and app/scoring/panel_scores.py (what the
page shows).
Every answer works for a plain form post (flash + redirect) and for htmx (a fragment, with the
refusal's message in the console's message area). An examiner only ever sees their own values
until the chief confirms.
"""

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from app import db, htmx
from app.day.consoles import done, fragment, not_modified, refused, staff_user
from app.decorators import guard_blueprint
from app.models import Candidate, Role
from app.routes.examiner.access import console_url, examiner_panel, is_chief, panel_candidate
from app.routes.examiner.scoring_view import (
    OTHER_CONFLICT,
    RECUSAL_REASONS,
    render_board,
    render_scoring,
)
from app.scoring.panel_scores import scores_version, sheet_view
from app.scoring.service import (
    ScoreError,
    change_submitted,
    confirm,
    dimensions_of,
    recuse,
    result_of,
    save_draft,
    submit,
)
from app.timeutil import utcnow

bp = Blueprint("examiner_scoring", __name__, url_prefix="/examiner")
guard_blueprint(bp, Role.EXAMINER, read_only_roles=(Role.SUPERVISOR,))


def _raw_values(candidate: Candidate) -> dict:
    """What the form sent, by dimension; a field it did not send is left out (None), so that a
    partial post changes only what it carries."""
    return {dim.id: request.form.get(f"dim-{dim.id}") for dim in dimensions_of(candidate.exam_id)}


# --- the fragments the page polls (built in scoring_view.py) -------------------------------------


@bp.get("/panels/<int:panel_id>/scoring")
def scoring(panel_id: int):
    panel = examiner_panel(panel_id)
    etag = "s" + scores_version(panel, staff_user())
    return not_modified(etag) or fragment(render_scoring(panel), etag)


@bp.get("/panels/<int:panel_id>/board")
def result_board(panel_id: int):
    panel = examiner_panel(panel_id)
    etag = "b" + scores_version(panel, staff_user())
    return not_modified(etag) or fragment(render_board(panel), etag)


# --- my sheet -------------------------------------------------------------------------------------


@bp.post("/panels/<int:panel_id>/candidates/<int:candidate_id>/draft")
def draft(panel_id: int, candidate_id: int):
    """Autosave (htmx on every change): answers with the sheet's status line and each field's
    own error slot (out of band), so that nothing the examiner is typing is ever replaced and a
    bad value in one field keeps the others saved."""
    panel = examiner_panel(panel_id)
    candidate = panel_candidate(panel, candidate_id)
    try:
        saved = save_draft(candidate, staff_user(), _raw_values(candidate))
    except ScoreError as problem:
        return refused(problem.message, console_url(panel), 422)
    if not htmx:
        if saved.problems:
            return refused("；".join(saved.problems.values()), console_url(panel), 422)
        return done(_("Draft saved."), console_url(panel), str)
    html = render_template(
        "examiner/_draft_saved.html",
        candidate=candidate,
        sheet=sheet_view(candidate, staff_user()),
        problems=saved.problems,
        after_submission=saved.after_submission,
    )
    return fragment(html)


@bp.post("/panels/<int:panel_id>/candidates/<int:candidate_id>/submit")
def submit_sheet(panel_id: int, candidate_id: int):
    panel = examiner_panel(panel_id)
    candidate = panel_candidate(panel, candidate_id)
    raw = _raw_values(candidate)
    try:
        submit(candidate, staff_user(), raw, utcnow())
    except ScoreError as problem:
        # What was typed is kept as a draft, so fixing one value does not mean typing all again.
        try:
            save_draft(candidate, staff_user(), raw)
        except ScoreError:
            db.session.rollback()
        return refused(problem.message, console_url(panel), 422)
    label = candidate.display_name_for_examiners
    return done(
        _("%(candidate)s: scores submitted.", candidate=label),
        console_url(panel),
        lambda: render_scoring(panel),
    )


@bp.post("/panels/<int:panel_id>/candidates/<int:candidate_id>/change")
def change_sheet(panel_id: int, candidate_id: int):
    """A correction after submission, before the chief confirms: only with a reason, audited
    with before and after values (app.scoring.service.change_submitted). After confirmation a change
    goes through HR (paper entry), where the final score is recomputed in the open."""
    panel = examiner_panel(panel_id)
    candidate = panel_candidate(panel, candidate_id)
    if result_of(candidate.id) is not None:
        return refused(_("Already confirmed: ask HR for a correction."), console_url(panel), 409)
    me = staff_user()
    current = sheet_view(candidate, me)
    if current.status != "submitted":
        return refused(
            _("Not submitted yet: change the sheet and submit it."), console_url(panel), 409
        )
    try:
        change_submitted(candidate, me, _raw_values(candidate), request.form.get("reason", ""), me)
    except ScoreError as problem:
        return refused(problem.message, console_url(panel), 422)
    label = candidate.display_name_for_examiners
    return done(
        _("%(candidate)s: scores corrected.", candidate=label),
        console_url(panel),
        lambda: render_scoring(panel),
    )


@bp.post("/panels/<int:panel_id>/candidates/<int:candidate_id>/recuse")
def recuse_me(panel_id: int, candidate_id: int):
    """回避: declared by the examiner; the reason goes to the audit log and to the chief."""
    panel = examiner_panel(panel_id)
    candidate = panel_candidate(panel, candidate_id)
    kind = (request.form.get("kind") or "").strip()
    note = (request.form.get("note") or "").strip()
    if kind and kind not in RECUSAL_REASONS:
        return refused(_("Choose a reason."), console_url(panel), 422)
    reason = "：".join(part for part in (kind, note) if part)
    if kind == OTHER_CONFLICT and not note:
        return refused(_("Describe the conflict."), console_url(panel), 422)
    try:
        recuse(candidate, staff_user(), reason)
    except ScoreError as problem:
        return refused(problem.message, console_url(panel), 422)
    label = candidate.display_name_for_examiners
    return done(
        _("%(candidate)s: recused, not scoring.", candidate=label),
        console_url(panel),
        lambda: render_scoring(panel),
    )


# --- the chief's confirmation ---------------------------------------------------------------------


@bp.post("/panels/<int:panel_id>/candidates/<int:candidate_id>/confirm")
def confirm_score(panel_id: int, candidate_id: int):
    panel = examiner_panel(panel_id)
    if not is_chief(panel):
        abort(403)
    candidate = panel_candidate(panel, candidate_id)
    try:
        result = confirm(candidate, staff_user(), utcnow())
    except ScoreError as problem:
        return refused(problem.message, console_url(panel), 409)
    label = candidate.display_name_for_examiners
    score = f"{result.final_score:.{panel.exam.score_decimals}f}"
    shown = _("Published") if result.published_at else _("Held for HR")
    return done(
        _(
            "%(candidate)s: final score %(score)s (%(shown)s).",
            candidate=label,
            score=score,
            shown=shown,
        ),
        console_url(panel),
        lambda: render_scoring(panel) + render_board(panel, oob=True),
    )
