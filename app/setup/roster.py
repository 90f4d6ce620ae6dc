"""Putting candidates into an exam (all rows of a clean file, or none) and onto its panels."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app import audit, db
from app.models import Candidate, Exam, Panel
from app.models.candidate import MOVABLE
from app.setup.candidate_file import ImportReport, parse_candidates
from app.setup.codes import allocate_codes

# The states a candidate may change panel in: one definition, beside the state enum.
MOVABLE_STATES = MOVABLE


def import_candidates(exam: Exam, filename: str, data: bytes) -> ImportReport:
    """Validate the whole file and, only if every row is clean, add every candidate with a code.

    Commits on success; on any error nothing is written and the report says why, row by row.
    """
    existing = set(
        db.session.scalars(select(Candidate.id_number).where(Candidate.exam_id == exam.id))
    )
    report = parse_candidates(filename, data, existing)
    if not report.ok:
        return report
    try:
        codes = allocate_codes(exam, len(report.rows))
        for row, code in zip(report.rows, codes, strict=True):
            db.session.add(
                Candidate(
                    exam_id=exam.id,
                    name=row.name,
                    id_number=row.id_number,
                    phone=row.phone,
                    position=row.position,
                    code=code,
                )
            )
        audit.record("candidates.imported", exam_id=exam.id, file=filename, count=len(report.rows))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def exam_candidates(exam: Exam, *, for_update: bool = False) -> list[Candidate]:
    """The exam's candidates by position, then import order."""
    query = (
        select(Candidate)
        .where(Candidate.exam_id == exam.id)
        .options(joinedload(Candidate.panel))
        .order_by(Candidate.position, Candidate.id)
    )
    if for_update:
        # The journey may move a candidate on while HR saves: their state is checked and the
        # panel written under the same row lock (a no-op on SQLite, which has one writer).
        query = query.with_for_update(of=Candidate)
    return list(db.session.scalars(query).unique())


def sort_moves(
    wanted: list[tuple[Candidate, Panel | None]],
) -> tuple[list[tuple[Candidate, Panel | None]], list[Candidate]]:
    """Split the panel changes HR asked for into the moves allowed and the candidates refused
    (no longer in MOVABLE_STATES); a candidate already on the wanted panel is neither."""
    moves, refused = [], []
    for candidate, target in wanted:
        if (target.id if target else None) == candidate.panel_id:
            continue
        if candidate.state not in MOVABLE_STATES:
            refused.append(candidate)
        else:
            moves.append((candidate, target))
    return moves, refused


def move_candidate(candidate: Candidate, panel: Panel | None, how: str) -> None:
    """Put the candidate on `panel` (None: no panel), audited; the caller commits."""
    audit.record(
        "candidate.panel_assigned",
        candidate=candidate,
        before={"panel": candidate.panel_id},
        after={"panel": panel.id if panel else None},
        how=how,
    )
    candidate.panel = panel


def distribute_candidates(panels: list[Panel], everyone: list[Candidate]) -> list[Candidate]:
    """Deal the movable candidates without a panel out over `panels`; returns those moved.

    `everyone` is the exam's candidates sorted by position, then import order: dealing them out
    in turn spreads every position over the panels; the least-loaded panel goes first so
    existing assignments even out. The caller commits."""
    load = {p.id: 0 for p in panels}
    for candidate in everyone:
        if candidate.panel_id in load:
            load[candidate.panel_id] += 1
    waiting = [c for c in everyone if c.panel_id is None and c.state in MOVABLE_STATES]
    last = len(panels) - 1
    for candidate in waiting:
        index = next_panel(panels, load, last)
        move_candidate(candidate, panels[index], "distribute")
        load[panels[index].id] += 1
        last = index
    return waiting


def next_panel(panels: list[Panel], load: dict[int, int], last: int) -> int:
    """Index of the least-loaded panel; among equals, the first one after `last` in turn."""
    count = len(panels)
    return min(range(count), key=lambda i: (load[panels[i].id], (i - last - 1) % count))


def commit_candidate_changes() -> bool:
    """Commit; False when a candidate changed under us (their version moved on) and nothing was
    saved. The mapper's version check is the guard: see Candidate.__mapper_args__."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return False
    return True
