"""What HR's results page shows for an exam: the export's table plus who still owes a sheet.

The totals, final scores and ranks come from `results_export.results_table`, so the page and the
downloaded files can never disagree. The page adds, per candidate, the examiners who have not
submitted yet (only for candidates who have been interviewed: nobody owes a sheet for a candidate
still waiting) and the exam's publication state. One page of candidates at a time (the files
hold them all), in a fixed number of queries.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from app import db
from app.listing import CandidateFilters, Page, paginate
from app.models import (
    Candidate,
    CandidateResult,
    Exam,
    ExaminerScore,
    Panel,
    PanelMember,
    PanelRole,
    Recusal,
    User,
)
from app.models.candidate import SCORABLE
from app.scoring.results import MARKED, RECUSED, results_table


@dataclass
class ResultRow:
    candidate: Candidate
    cells: dict
    examiner_totals: list[str]
    missing: list[str] = field(default_factory=list)
    marked: str | None = None
    confirmed: bool = False
    published: bool = False
    corrected_from: str | None = None  # the published score before its last correction


@dataclass
class ResultsPage:
    header: list[str]
    examiner_columns: list[str]
    rows: list[ResultRow]
    # panel id, name, its examiners in column order
    panels: list[tuple[int, str, list[str]]]
    confirmed: int
    published: int
    page: Page
    filters: CandidateFilters
    panel_rows: list[Panel]  # for the filter form

    @property
    def held(self) -> int:
        return self.confirmed - self.published


def results_page(exam: Exam, args=None) -> ResultsPage:
    """One page (app.listing) of the results, searched and filtered by the URL's `args`; the
    ranks, and the confirmed and published counts, are the whole exam's."""
    args = args or {}
    panels = list(
        db.session.scalars(select(Panel).where(Panel.exam_id == exam.id).order_by(Panel.id))
    )
    filters = CandidateFilters.from_args(args, [p.id for p in panels])
    # The files' order (app.scoring.results), ending with the id so every page is stable.
    listed, page_rows = paginate(
        filters.apply(
            select(Candidate)
            .where(Candidate.exam_id == exam.id)
            .order_by(Candidate.position, Candidate.lot_number, Candidate.id)
        ),
        args.get("page"),
    )
    header, table = results_table(exam, page_rows)
    ids = [c.id for c in page_rows]
    # Keyed by panel id; a candidate without a panel (None) finds no examiners.
    examiners: dict[int | None, list[User]] = defaultdict(list)
    for member, user in db.session.execute(
        select(PanelMember, User)
        .join(User, User.id == PanelMember.user_id)
        .where(
            PanelMember.panel_id.in_([p.id for p in panels]), PanelMember.role == PanelRole.EXAMINER
        )
        # The export numbers examiners by user id within a panel: keep the same order here.
        .order_by(PanelMember.user_id)
    ):
        examiners[member.panel_id].append(user)
    submitted = set(
        db.session.execute(
            select(ExaminerScore.candidate_id, ExaminerScore.examiner_id).where(
                ExaminerScore.candidate_id.in_(ids), ExaminerScore.status == "submitted"
            )
        ).all()
    )
    recused = set(
        db.session.execute(
            select(Recusal.candidate_id, Recusal.examiner_id).where(Recusal.candidate_id.in_(ids))
        ).all()
    )
    results = {
        r.candidate_id: r
        for r in db.session.scalars(
            select(CandidateResult).where(CandidateResult.candidate_id.in_(ids))
        )
    }
    confirmed, published = db.session.execute(
        select(func.count(CandidateResult.id), func.count(CandidateResult.published_at))
        .join(Candidate, Candidate.id == CandidateResult.candidate_id)
        .where(Candidate.exam_id == exam.id)
    ).one()

    examiner_columns = [h for h in header if h.startswith("考官")]
    rows = []
    for candidate, values in zip(page_rows, table, strict=True):
        cells = dict(zip(header, values, strict=True))
        result = results.get(candidate.id)
        marked = MARKED.get(candidate.state)
        missing = []
        if candidate.state in SCORABLE and result is None:
            missing = [
                u.display_name
                for u in examiners.get(candidate.panel_id, [])
                if (candidate.id, u.id) not in submitted and (candidate.id, u.id) not in recused
            ]
        rows.append(
            ResultRow(
                candidate=candidate,
                cells=cells,
                # The page in the reader's language; the files keep RECUSED.
                examiner_totals=[
                    _("recused") if cells[h] == RECUSED else cells[h] for h in examiner_columns
                ],
                missing=missing,
                marked=str(marked) if marked is not None else None,
                confirmed=result is not None,
                published=bool(result and result.published_at),
                corrected_from=(
                    f"{result.corrected_from:.{exam.score_decimals}f}"
                    if result is not None and result.corrected_from is not None
                    else None
                ),
            )
        )
    return ResultsPage(
        header=header,
        examiner_columns=examiner_columns,
        rows=rows,
        panels=[(p.id, p.name, [u.display_name for u in examiners.get(p.id, [])]) for p in panels],
        confirmed=confirmed,
        published=published,
        page=listed,
        filters=filters,
        panel_rows=panels,
    )
