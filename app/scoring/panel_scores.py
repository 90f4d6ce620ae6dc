"""What one examiner's console shows about scores: my sheets, the chief's progress, the board.

The rules (bounds, drafts, recusal, confirmation) live in app/scoring/service.py; this module only
reads. It never hands one examiner another examiner's values before the chief confirms: the
sheet view is built from the examiner's own sheet, the chief's progress names who submitted but
carries no numbers, and examiners' totals appear only on the result board, i.e. after
confirmation.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from app import db
from app.models import (
    Candidate,
    CandidateResult,
    ExaminerScore,
    Panel,
    Recusal,
    ScoreDimension,
    User,
)
from app.models.candidate import SCORABLE
from app.models.candidate import CandidateState as S
from app.scoring.rules import Rule, sheet_total
from app.scoring.service import dimensions_of, panel_examiners, sheet_of, sheet_values


@dataclass
class SheetView:
    """One examiner's sheet for one candidate."""

    candidate: Candidate
    dimensions: list[ScoreDimension]
    values: dict[int, Decimal | None]
    status: str  # empty | draft | submitted | recused
    recusal_reason: str | None = None
    saved_at: datetime | None = None

    @property
    def total(self) -> Decimal:
        return sheet_total({k: v for k, v in self.values.items() if v is not None})

    @property
    def max_total(self) -> Decimal:
        return sum((d.max_score for d in self.dimensions), Decimal(0))

    def shown(self, dimension_id: int) -> str:
        value = self.values.get(dimension_id)
        return "" if value is None else f"{value:.1f}"


@dataclass
class ProgressRow:
    examiner: User
    status: str  # empty | draft | submitted | recused
    reason: str | None = None


@dataclass
class OpenCandidate:
    candidate: Candidate
    sheet: SheetView
    progress: list[ProgressRow] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        scoring = [row for row in self.progress if row.status != "recused"]
        return bool(scoring) and all(row.status == "submitted" for row in scoring)

    @property
    def submitted_count(self) -> int:
        return sum(1 for row in self.progress if row.status == "submitted")

    @property
    def expected_count(self) -> int:
        return sum(1 for row in self.progress if row.status != "recused")


@dataclass
class BoardRow:
    candidate: Candidate
    result: CandidateResult
    totals: list[Decimal]  # every scoring examiner's total, high first (after confirmation)
    trimmed: bool
    my_total: Decimal | None


def _lot_key(candidate: Candidate) -> tuple:
    return (candidate.lot_number is None, candidate.lot_number or 0, candidate.id)


def open_candidates(panel: Panel) -> list[Candidate]:
    """Interviewed (or being interviewed) and not yet confirmed: the ones to score now.

    The one in the room comes first, then the most recent ones: right after an interview the
    panel scores the candidate who just left while the chief calls the next.
    """
    rows = db.session.scalars(
        select(Candidate)
        .outerjoin(CandidateResult, CandidateResult.candidate_id == Candidate.id)
        .where(
            Candidate.panel_id == panel.id,
            Candidate.state.in_(SCORABLE),
            CandidateResult.id.is_(None),
        )
    ).all()
    return sorted(rows, key=lambda c: (c.state != S.INTERVIEWING, -(c.lot_number or 0), -c.id))


def sheet_view(candidate: Candidate, examiner: User) -> SheetView:
    dimensions = dimensions_of(candidate.exam_id)
    recusal = db.session.scalar(
        select(Recusal).where(
            Recusal.candidate_id == candidate.id, Recusal.examiner_id == examiner.id
        )
    )
    if recusal is not None:
        return SheetView(candidate, dimensions, {}, "recused", recusal.reason)
    sheet = sheet_of(candidate.id, examiner.id)
    status = sheet.status if sheet is not None else "empty"
    return SheetView(
        candidate,
        dimensions,
        sheet_values(sheet),
        status,
        saved_at=sheet.updated_at if sheet is not None else None,
    )


def progress_rows(candidate: Candidate) -> list[ProgressRow]:
    """Who has submitted, who is still at it, who recused: names and states, never values."""
    statuses = dict(
        db.session.execute(
            select(ExaminerScore.examiner_id, ExaminerScore.status).where(
                ExaminerScore.candidate_id == candidate.id
            )
        ).all()
    )
    reasons = dict(
        db.session.execute(
            select(Recusal.examiner_id, Recusal.reason).where(Recusal.candidate_id == candidate.id)
        ).all()
    )
    rows = []
    for examiner in panel_examiners(candidate):
        if examiner.id in reasons:
            rows.append(ProgressRow(examiner, "recused", reasons[examiner.id]))
        else:
            rows.append(ProgressRow(examiner, statuses.get(examiner.id, "empty")))
    return rows


def open_for(panel: Panel, examiner: User) -> list[OpenCandidate]:
    """Every open candidate with my sheet and the panel's progress, in a fixed number of
    queries however many wait to be scored (a panel that falls behind must not slow down):
    the same as sheet_view and progress_rows per candidate, read for all at once."""
    candidates = open_candidates(panel)
    if not candidates:
        return []
    ids = [c.id for c in candidates]
    dimensions = dimensions_of(panel.exam_id)
    examiners = panel_examiners(candidates[0])  # one panel: the same examiners for all
    reasons: dict[tuple[int, int], str] = {
        (cid, eid): reason
        for cid, eid, reason in db.session.execute(
            select(Recusal.candidate_id, Recusal.examiner_id, Recusal.reason).where(
                Recusal.candidate_id.in_(ids)
            )
        )
    }
    statuses: dict[tuple[int, int], str] = {}
    mine: dict[int, ExaminerScore] = {}
    for sheet in db.session.scalars(
        select(ExaminerScore)
        .options(selectinload(ExaminerScore.items))
        .where(ExaminerScore.candidate_id.in_(ids))
    ):
        statuses[(sheet.candidate_id, sheet.examiner_id)] = sheet.status
        if sheet.examiner_id == examiner.id:
            mine[sheet.candidate_id] = sheet
    result = []
    for c in candidates:
        if (c.id, examiner.id) in reasons:
            view = SheetView(c, dimensions, {}, "recused", reasons[(c.id, examiner.id)])
        else:
            own = mine.get(c.id)
            view = SheetView(
                c,
                dimensions,
                sheet_values(own),
                own.status if own is not None else "empty",
                saved_at=own.updated_at if own is not None else None,
            )
        progress = [
            ProgressRow(u, "recused", reasons[(c.id, u.id)])
            if (c.id, u.id) in reasons
            else ProgressRow(u, statuses.get((c.id, u.id), "empty"))
            for u in examiners
        ]
        result.append(OpenCandidate(c, view, progress))
    return result


def board(panel: Panel, examiner: User) -> list[BoardRow]:
    """成绩公布: every confirmed candidate of the panel, in lot order."""
    pairs = db.session.execute(
        select(Candidate, CandidateResult)
        .join(CandidateResult, CandidateResult.candidate_id == Candidate.id)
        .where(Candidate.panel_id == panel.id)
    ).all()
    if not pairs:
        return []
    ids = [c.id for c, _ in pairs]
    recused = set(
        db.session.execute(
            select(Recusal.candidate_id, Recusal.examiner_id).where(Recusal.candidate_id.in_(ids))
        ).all()
    )
    sheets: dict[int, list[ExaminerScore]] = {}
    for sheet in db.session.scalars(
        select(ExaminerScore)
        .options(selectinload(ExaminerScore.items))
        .where(ExaminerScore.candidate_id.in_(ids), ExaminerScore.status == "submitted")
    ):
        if (sheet.candidate_id, sheet.examiner_id) not in recused:
            sheets.setdefault(sheet.candidate_id, []).append(sheet)
    rule = Rule.of_exam(panel.exam)
    rows = []
    for candidate, result in sorted(pairs, key=lambda pair: _lot_key(pair[0])):
        own = sheets.get(candidate.id, [])
        totals = sorted((sheet_total(sheet_values(s)) for s in own), reverse=True)
        mine = next((s for s in own if s.examiner_id == examiner.id), None)
        rows.append(
            BoardRow(
                candidate,
                result,
                totals,
                rule.trims(len(totals)),
                sheet_total(sheet_values(mine)) if mine is not None else None,
            )
        )
    return rows


# --- versions for the polls ---------------------------------------------------------------------


def _stamp(moment: datetime | None) -> str:
    return str(int(moment.timestamp() * 1000)) if moment else "0"


def scores_version(panel: Panel, examiner: User) -> str:
    """Changes when anyone submits, recuses or is confirmed, and when my own sheet is saved.

    Other examiners' drafts are left out on purpose: their autosaves must not re-render my form.
    """
    mine = ExaminerScore.examiner_id == examiner.id
    submitted = ExaminerScore.status == "submitted"
    count, latest = db.session.execute(
        select(
            func.count(case((submitted, 1))),
            func.max(case((submitted | mine, ExaminerScore.updated_at))),
        )
        .join(Candidate, Candidate.id == ExaminerScore.candidate_id)
        .where(Candidate.panel_id == panel.id)
    ).one()
    recusals = db.session.scalar(
        select(func.count(Recusal.id))
        .join(Candidate, Candidate.id == Recusal.candidate_id)
        .where(Candidate.panel_id == panel.id)
    )
    results, confirmed, published, finals = db.session.execute(
        select(
            func.count(CandidateResult.id),
            func.max(CandidateResult.confirmed_at),
            func.count(CandidateResult.published_at),
            func.coalesce(func.sum(CandidateResult.final_score), 0),
        )
        .join(Candidate, Candidate.id == CandidateResult.candidate_id)
        .where(Candidate.panel_id == panel.id)
    ).one()
    latest = _as_datetime(latest)
    confirmed = _as_datetime(confirmed)
    return (
        f"{count}.{_stamp(latest)}.{recusals}.{results}.{_stamp(confirmed)}.{published}."
        f"{finals}.q{panel.queue_version}"  # a candidate entering the room opens a sheet
    )


def _as_datetime(value):
    # SQLite hands MAX() over a timestamp back as text; PostgreSQL as a datetime.
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
