"""HR's candidates: importing the list, assigning them to panels, the live candidate list."""

import hashlib

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import db, htmx
from app.day.consoles import fragment, not_modified
from app.day.overview import candidate_list_version
from app.listing import CandidateFilters, page_number, paginate
from app.models import Candidate
from app.routes.hr.blueprints import bp
from app.routes.hr.forms import ImportForm
from app.routes.hr.lookups import panel_list, saved_or_flash_stale
from app.setup.codes import CodeSpaceFull
from app.setup.roster import (
    MOVABLE_STATES,
    distribute_candidates,
    exam_candidates,
    import_candidates,
    move_candidate,
    sort_moves,
)


@bp.route("/exams/<int:exam_id>/import", methods=["GET", "POST"])
def import_roster(exam_id: int):
    exam = g.exam
    form = ImportForm()
    errors: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        if not data:
            form.file.errors.append(_("The file is empty."))
        else:
            try:
                report = import_candidates(exam, upload.filename, data)
            except CodeSpaceFull as error:
                # Nothing was written (app.setup.codes): the import refuses as a whole.
                db.session.rollback()
                errors = [str(error)]
            else:
                if report.ok:
                    flash(
                        _(
                            "%(n)s candidates imported with their codes. Next: assign panels.",
                            n=len(report.rows),
                        ),
                        "success",
                    )
                    return redirect(url_for("hr.candidates", exam_id=exam.id))
                errors = list(report.errors)
    status = 400 if form.is_submitted() else 200
    return render_template("hr/import.html", form=form, exam=exam, errors=errors), status


@bp.route("/exams/<int:exam_id>/assign", methods=["GET", "POST"])
def assign(exam_id: int):
    exam = g.exam
    panels = panel_list(exam)
    form = FlaskForm()
    if form.validate_on_submit():
        by_id = {p.id: p for p in panels}
        wanted = []
        for candidate in exam_candidates(exam, for_update=True):
            raw = request.form.get(f"panel-{candidate.id}")
            if raw is None:
                continue
            try:
                target = by_id[int(raw)] if raw else None
            except (KeyError, ValueError):
                abort(400)
            wanted.append((candidate, target))
        moves, refused = sort_moves(wanted)
        if refused:
            # Named before the rollback, which expires what was read under the lock.
            names = "、".join(f"{c.name}（{c.state_label}）" for c in refused)
            db.session.rollback()
            flash(
                "以下考生已进入面试流程，不能再调整考场，本次未保存任何更改： "
                + names
                + " These candidates are already on their way: nothing was saved.",
                "error",
            )
            return redirect(url_for("hr.assign", exam_id=exam.id))
        for candidate, target in moves:
            move_candidate(candidate, target, "manual")
        if saved_or_flash_stale():
            flash(_("%(n)s candidates moved to another panel.", n=len(moves)), "success")
        return redirect(url_for("hr.assign", exam_id=exam.id))
    return render_template(
        "hr/assign.html",
        exam=exam,
        panels=panels,
        candidates=exam_candidates(exam),
        movable=MOVABLE_STATES,
        form=form,
    )


@bp.post("/exams/<int:exam_id>/assign/distribute")
def distribute(exam_id: int):
    exam = g.exam
    panels = panel_list(exam)
    if not panels:
        flash(_("Create a panel first."), "error")
        return redirect(url_for("hr.assign", exam_id=exam.id))
    everyone = exam_candidates(exam, for_update=True)
    waiting = distribute_candidates(panels, everyone)
    if saved_or_flash_stale():
        flash(
            _(
                "%(n)s unassigned candidates spread evenly over %(panels)s panels.",
                n=len(waiting),
                panels=len(panels),
            ),
            "success",
        )
    return redirect(url_for("hr.assign", exam_id=exam.id))


@bp.get("/exams/<int:exam_id>/candidates")
def candidates(exam_id: int):
    exam = g.exam
    panels = panel_list(exam)
    filters = CandidateFilters.from_args(request.args, [p.id for p in panels])
    raw_page = request.args.get("page")
    # Polled every 5 s by every HR browser: an unchanged list is a 304 after one aggregate.
    # The version covers what this browser shows: the page and the filters asked for.
    shown = hashlib.sha1(repr((filters.args(), page_number(raw_page))).encode()).hexdigest()[:8]
    etag = f"{candidate_list_version(exam.id, panels)}-{shown}"
    if htmx:
        cached = not_modified(etag)
        if cached is not None:
            return cached
    query = filters.apply(
        select(Candidate)
        .where(Candidate.exam_id == exam.id)
        .options(joinedload(Candidate.panel))
        .order_by(Candidate.panel_id, Candidate.lot_number, Candidate.position, Candidate.id)
    )
    page, rows = paginate(query, raw_page)
    unassigned = db.session.scalar(
        select(func.count(Candidate.id)).where(
            Candidate.exam_id == exam.id, Candidate.panel_id.is_(None)
        )
    )
    context = {
        "etag": etag,
        "unassigned": unassigned,
        "exam": exam,
        "panels": panels,
        "candidates": rows,
        "page": page,
        "filters": filters,
        "poll_url": url_for("hr.candidates", exam_id=exam.id, **filters.with_page(page.number)),
    }
    if htmx:
        return fragment(render_template("hr/_candidate_table.html", **context), etag)
    return render_template("hr/candidates.html", **context)
