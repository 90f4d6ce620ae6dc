"""Score sheets in the database: drafts, submission, recusal, confirmation, publication, changes.

Every function here is one transaction that commits or raises `ScoreError` with nothing
changed, and writes an audit event (changes after submission with before and after values).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import audit, db
from app.day.poll_versions import bump_candidate
from app.models import (
    Candidate,
    CandidateResult,
    Exam,
    ExaminerScore,
    PanelMember,
    PanelRole,
    Recusal,
    ScoreDimension,
    ScoreItem,
    User,
)
from app.models.candidate import SCORABLE
from app.refusals import Refused
from app.scoring.rules import Rule, final_score, sheet_total
from app.timeutil import utcnow

ONE_DECIMAL = Decimal("0.1")


class ScoreError(Refused):
    """A scoring rule said no: the score routes catch these apart from the journey's refusals."""


def dimensions_of(exam_id: int) -> list[ScoreDimension]:
    return list(
        db.session.scalars(
            select(ScoreDimension)
            .where(ScoreDimension.exam_id == exam_id)
            .order_by(ScoreDimension.position, ScoreDimension.id)
        )
    )


# A score is typed as plain ASCII digits with at most one decimal. Python's Decimal would also
# take "1e1", "1_8", "NaN" and full-width "１８", silently turning them into numbers the examiner
# never meant to type: those are refused with the reason instead.
PLAIN_DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class ValueProblem(ValueError):
    """Why one typed value is not a score (a sentence naming the dimension)."""


def _out_of_range(dim: ScoreDimension) -> str:
    return _(
        "%(dimension)s: must be from 0 to %(maximum)s", dimension=dim.name, maximum=dim.max_score
    )


def parse_value(dim: ScoreDimension, text: str) -> Decimal:
    """One typed value, checked against its dimension; `ValueProblem` says why not."""
    if text.startswith("-") and PLAIN_DECIMAL.fullmatch(text[1:]):
        raise ValueProblem(_out_of_range(dim))
    if not PLAIN_DECIMAL.fullmatch(text):
        if any(ch.isdigit() and not ch.isascii() for ch in text):
            raise ValueProblem(
                _(
                    "%(dimension)s: “%(text)s” has full-width digits: use half-width ones",
                    dimension=dim.name,
                    text=text,
                )
            )
        raise ValueProblem(
            _(
                "%(dimension)s: “%(text)s” is not a number: write 15 or 15.5, say",
                dimension=dim.name,
                text=text,
            )
        )
    value = Decimal(text)
    if value > dim.max_score:
        raise ValueProblem(_out_of_range(dim))
    if value != value.quantize(ONE_DECIMAL):
        raise ValueProblem(_("%(dimension)s: at most one decimal", dimension=dim.name))
    return value.quantize(ONE_DECIMAL)


def read_values(
    dimensions: list[ScoreDimension], raw: dict
) -> tuple[dict[int, Decimal | None], dict[int, str]]:
    """The values that are scores, and for each dimension whose value is not, the reason.

    A dimension missing from `raw` is left out of both (a form that did not send it changes
    nothing); an empty field is None (cleared)."""
    values: dict[int, Decimal | None] = {}
    problems: dict[int, str] = {}
    for dim in dimensions:
        typed = raw.get(dim.id, raw.get(str(dim.id)))
        if typed is None:
            continue
        text = str(typed).strip()
        if not text:
            values[dim.id] = None
            continue
        try:
            values[dim.id] = parse_value(dim, text)
        except ValueProblem as problem:
            problems[dim.id] = str(problem)
    return values, problems


def parse_values(
    dimensions: list[ScoreDimension], raw: dict, *, complete: bool
) -> dict[int, Decimal | None]:
    """Every value checked against its dimension; any problem refuses the lot (`complete`:
    every dimension must be scored, as for a submission)."""
    values, problems = read_values(dimensions, raw)
    reasons = [problems[d.id] for d in dimensions if d.id in problems]
    for dim in dimensions:
        if dim.id not in problems and values.get(dim.id) is None:
            if complete:
                reasons.append(_("%(dimension)s: not scored", dimension=dim.name))
            values[dim.id] = None
    if reasons:
        raise ScoreError("invalid_scores", problems="；".join(reasons))
    return values


def panel_examiners(candidate: Candidate) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(PanelMember, PanelMember.user_id == User.id)
            .where(
                PanelMember.panel_id == candidate.panel_id, PanelMember.role == PanelRole.EXAMINER
            )
            .order_by(User.id)
        )
    )


def recused_ids(candidate_id: int) -> set[int]:
    return set(
        db.session.scalars(select(Recusal.examiner_id).where(Recusal.candidate_id == candidate_id))
    )


def scoring_examiners(candidate: Candidate) -> list[User]:
    recused = recused_ids(candidate.id)
    return [u for u in panel_examiners(candidate) if u.id not in recused]


def sheet_of(
    candidate_id: int, examiner_id: int, *, for_update: bool = False
) -> ExaminerScore | None:
    query = (
        select(ExaminerScore)
        .options(selectinload(ExaminerScore.items))
        .where(ExaminerScore.candidate_id == candidate_id, ExaminerScore.examiner_id == examiner_id)
    )
    if for_update:
        # The autosave of the last field and 提交评分 arrive together: the second waits for the
        # first, then sees its outcome, so a draft never writes over a submitted sheet.
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def sheet_values(sheet: ExaminerScore | None) -> dict[int, Decimal | None]:
    return {item.dimension_id: item.value for item in sheet.items} if sheet else {}


def result_of(candidate_id: int) -> CandidateResult | None:
    return db.session.scalar(
        select(CandidateResult).where(CandidateResult.candidate_id == candidate_id)
    )


# The same checks, worded for the examiner at their console or for HR typing in a paper sheet
# (the refusal codes of app/refusals.py).
TO_EXAMINER = {"panel": "not_your_panel", "recused": "you_recused", "state": "not_interviewed"}
ABOUT_EXAMINER = {
    "panel": "paper_not_on_panel",
    "recused": "paper_recused",
    "state": "paper_not_interviewed",
}


def check_examiner(candidate: Candidate, examiner: User, say: dict = TO_EXAMINER) -> None:
    """May `examiner` score `candidate` now: on the panel, not recused, interview begun."""
    if examiner.id not in {u.id for u in panel_examiners(candidate)}:
        raise ScoreError(say["panel"])
    if examiner.id in recused_ids(candidate.id):
        raise ScoreError(say["recused"])
    if candidate.state not in SCORABLE:
        raise ScoreError(say["state"])


def _write_items(sheet: ExaminerScore, values: dict[int, Decimal | None]) -> None:
    existing = {item.dimension_id: item for item in sheet.items}
    for dimension_id, value in values.items():
        if dimension_id in existing:
            existing[dimension_id].value = value
        else:
            sheet.items.append(ScoreItem(dimension_id=dimension_id, value=value))


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        # Two tabs of one examiner creating the same sheet at once: the unique constraint keeps
        # one; the other click is asked to retry instead of failing with a 500.
        db.session.rollback()
        raise ScoreError("save_conflict") from None


@dataclass
class Draft:
    """What an autosave kept: the sheet, and the fields whose values were not scores (by
    dimension id, with the reason); those fields keep their last saved value."""

    sheet: ExaminerScore
    problems: dict[int, str] = field(default_factory=dict)
    # The sheet was already submitted (the last field's autosave lost the race to 提交评分):
    # nothing was written, and nothing is wrong.
    after_submission: bool = False


def _sheet_for_update(candidate: Candidate, examiner: User) -> ExaminerScore:
    """My sheet, row-locked for this transaction; created (as a draft) if there is none yet.

    Two first writes at once (an autosave and 提交评分, two tabs) both try to create it: the
    unique constraint lets one through, and the other, having waited for it, locks that one."""
    sheet = sheet_of(candidate.id, examiner.id, for_update=True)
    if sheet is not None:
        return sheet
    try:
        with db.session.begin_nested():
            db.session.add(
                ExaminerScore(candidate_id=candidate.id, examiner_id=examiner.id, status="draft")
            )
    except IntegrityError:
        pass
    sheet = sheet_of(candidate.id, examiner.id, for_update=True)
    if sheet is None:  # created and deleted (a recusal) in between: rare enough to ask a retry
        raise ScoreError("save_conflict")
    return sheet


def save_draft(candidate: Candidate, examiner: User, raw: dict) -> Draft:
    """Keep what the examiner has typed so far, field by field: a bad value in one field is
    reported for that field and loses none of the others; a reload loses nothing saved."""
    check_examiner(candidate, examiner)
    values, problems = read_values(dimensions_of(candidate.exam_id), raw)
    sheet = _sheet_for_update(candidate, examiner)
    if sheet.status == "submitted":
        db.session.rollback()
        return Draft(sheet, after_submission=True)
    _write_items(sheet, values)
    sheet.updated_at = utcnow()  # items alone would not touch the sheet's row
    _commit()
    return Draft(sheet, problems)


def submit(
    candidate: Candidate, examiner: User, raw: dict, now: datetime | None = None
) -> ExaminerScore:
    check_examiner(candidate, examiner)
    if result_of(candidate.id) is not None:
        raise ScoreError("confirmed_no_submit")
    dims = dimensions_of(candidate.exam_id)
    if not dims:
        raise ScoreError("no_score_sheet")
    values = parse_values(dims, raw, complete=True)
    sheet = _sheet_for_update(candidate, examiner)
    if sheet.status == "submitted":
        db.session.rollback()
        raise ScoreError("already_submitted")
    _write_items(sheet, values)
    sheet.status = "submitted"
    sheet.submitted_at = now or utcnow()
    audit.record(
        "score.submitted",
        candidate=candidate,
        actor=examiner,
        examiner=examiner.id,
        total=str(sheet_total(dict(values.items()))),
    )
    _commit()
    return sheet


def change_submitted(
    candidate: Candidate,
    examiner: User,
    raw: dict,
    reason: str,
    by: User,
    entered_from_paper: bool = False,
) -> ExaminerScore:
    """A change after submission (or HR's paper entry): needs a reason; audited before/after."""
    reason = (reason or "").strip()
    if not reason:
        raise ScoreError("change_reason_required")
    if examiner.id not in {u.id for u in panel_examiners(candidate)}:
        raise ScoreError("change_not_on_panel")
    if examiner.id in recused_ids(candidate.id):
        raise ScoreError("change_recused")
    dims = dimensions_of(candidate.exam_id)
    values = parse_values(dims, raw, complete=True)
    sheet = sheet_of(candidate.id, examiner.id)
    before = {str(k): str(v) for k, v in sheet_values(sheet).items()} if sheet else None
    if sheet is None:
        sheet = ExaminerScore(candidate_id=candidate.id, examiner_id=examiner.id)
        db.session.add(sheet)
    _write_items(sheet, values)
    sheet.status = "submitted"
    sheet.submitted_at = sheet.submitted_at or utcnow()
    if entered_from_paper:
        sheet.entered_by_id = by.id
    result = result_of(candidate.id)
    if result is not None:
        # The confirmed score follows the sheets: recompute, and keep the change visible.
        old_final = result.final_score
        db.session.flush()
        result.final_score = _final_for(candidate)
        audit.record(
            "score.final_recomputed",
            candidate=candidate,
            actor=by,
            before=str(old_final),
            after=str(result.final_score),
            reason=reason,
        )
        if result.published_at is not None and result.final_score != old_final:
            _correct_published(result, old_final, candidate, by, reason)
    audit.record(
        "score.changed",
        candidate=candidate,
        actor=by,
        examiner=examiner.id,
        reason=reason,
        before=before,
        after={str(k): str(v) for k, v in values.items()},
        paper=entered_from_paper,
    )
    _commit()
    if result is not None:
        # After the commit: a poll between the bump and the commit would keep the old page
        # under the new ETag.
        bump_candidate(candidate)
    return sheet


def _correct_published(
    result: CandidateResult, old_final: Decimal, candidate: Candidate, by: User, reason: str
) -> None:
    """A published score changed: her confirmation was of the old one, so it no longer counts
    (she is asked to confirm the new score); what it was stays on the result and in the audit."""
    now = utcnow()
    seen = result.seen_by_candidate_at
    result.corrected_from = old_final
    result.corrected_at = now
    result.seen_by_candidate_at = None
    audit.record(
        "score.corrected",
        candidate=candidate,
        actor=by,
        before=str(old_final),
        after=str(result.final_score),
        reason=reason,
        confirmation_cleared=seen.isoformat() if seen else None,
    )


def published_final(candidate_id: int) -> Decimal | None:
    """The candidate's final score as published, None while unconfirmed or held."""
    return db.session.scalar(
        select(CandidateResult.final_score).where(
            CandidateResult.candidate_id == candidate_id,
            CandidateResult.published_at.is_not(None),
        )
    )


def correction_notice(exam: Exam, before: Decimal, after: Decimal) -> str:
    """What the person who changed a published score is told."""
    places = exam.score_decimals
    x, y = f"{before:.{places}f}", f"{after:.{places}f}"
    return _(
        "The published score changed from %(before)s to %(after)s; the candidate's page shows it.",
        before=x,
        after=y,
    )


def recuse(candidate: Candidate, examiner: User, reason: str) -> Recusal:
    """回避: the examiner leaves this candidate's scoring; their draft, if any, is discarded."""
    reason = (reason or "").strip()
    if not reason:
        raise ScoreError("recusal_reason_required")
    if examiner.id not in {u.id for u in panel_examiners(candidate)}:
        raise ScoreError("not_your_panel")
    if result_of(candidate.id) is not None:
        raise ScoreError("confirmed_no_recusal")
    if examiner.id in recused_ids(candidate.id):
        raise ScoreError("already_recused")
    sheet = sheet_of(candidate.id, examiner.id)
    if sheet is not None:
        db.session.delete(sheet)
    recusal = Recusal(candidate_id=candidate.id, examiner_id=examiner.id, reason=reason[:500])
    db.session.add(recusal)
    audit.record(
        "score.recused", candidate=candidate, actor=examiner, examiner=examiner.id, reason=reason
    )
    _commit()
    return recusal


@dataclass(frozen=True)
class Progress:
    expected: list[User]
    submitted: list[int]

    @property
    def complete(self) -> bool:
        return bool(self.expected) and {u.id for u in self.expected} <= set(self.submitted)


def progress(candidate: Candidate) -> Progress:
    expected = scoring_examiners(candidate)
    submitted = list(
        db.session.scalars(
            select(ExaminerScore.examiner_id).where(
                ExaminerScore.candidate_id == candidate.id, ExaminerScore.status == "submitted"
            )
        )
    )
    return Progress(expected, submitted)


def _final_for(candidate: Candidate) -> Decimal:
    exam = db.session.get(Exam, candidate.exam_id)
    ids = {u.id for u in scoring_examiners(candidate)}
    sheets = [
        {item.dimension_id: item.value for item in sheet.items}
        for sheet in db.session.scalars(
            select(ExaminerScore)
            .options(selectinload(ExaminerScore.items))
            .where(ExaminerScore.candidate_id == candidate.id, ExaminerScore.status == "submitted")
        )
        if sheet.examiner_id in ids
    ]
    return final_score(sheets, Rule.of_exam(exam))


def confirm(candidate: Candidate, chief: User, now: datetime | None = None) -> CandidateResult:
    """The chief examiner confirms: the final score is computed and, unless HR holds, published."""
    now = now or utcnow()
    if candidate.panel is None or candidate.panel.chief_examiner_id != chief.id:
        raise ScoreError("chief_only")
    if result_of(candidate.id) is not None:
        raise ScoreError("already_confirmed")
    state = progress(candidate)
    if not state.complete:
        missing = [u.display_name for u in state.expected if u.id not in state.submitted]
        if missing:
            raise ScoreError("sheets_missing", names="、".join(missing))
        raise ScoreError("no_scores")
    exam = candidate.exam
    result = CandidateResult(
        candidate_id=candidate.id,
        final_score=_final_for(candidate),
        confirmed_by_id=chief.id,
        confirmed_at=now,
        published_at=now if exam.publish_mode == "instant" else None,
    )
    db.session.add(result)
    audit.record(
        "score.confirmed",
        candidate=candidate,
        actor=chief,
        final=str(result.final_score),
        published=result.published_at is not None,
    )
    _commit()
    bump_candidate(candidate)  # her page alone shows it
    return result


def publish_exam(exam: Exam, by: User, now: datetime | None = None) -> int:
    """HR publishes every confirmed, held score of the exam at once."""
    now = now or utcnow()
    held = list(
        db.session.scalars(
            select(CandidateResult)
            .join(Candidate, Candidate.id == CandidateResult.candidate_id)
            .where(Candidate.exam_id == exam.id, CandidateResult.published_at.is_(None))
        )
    )
    for result in held:
        result.published_at = now
    audit.record("score.published", exam_id=exam.id, actor=by, count=len(held))
    _commit()
    for result in held:
        bump_candidate(result.candidate_id)
    return len(held)


def acknowledge(candidate: Candidate, now: datetime | None = None) -> CandidateResult:
    """The candidate confirms having seen the score: the online form of signing the sheet."""
    result = result_of(candidate.id)
    if result is None or result.published_at is None:
        raise ScoreError("not_published")
    if result.seen_by_candidate_at is None:
        result.seen_by_candidate_at = now or utcnow()
        audit.record("score.seen_by_candidate", candidate=candidate, final=str(result.final_score))
        _commit()
        bump_candidate(candidate)
    return result
