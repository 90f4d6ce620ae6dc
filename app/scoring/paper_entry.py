"""纸质评分录入: HR types an examiner's paper score sheet into the system on their behalf.

The first entry submits the examiner's sheet as if they had submitted it (same checks as
`scoring.submit`: panel member, not recused, candidate interviewed, score not yet confirmed);
the audit event names HR as the actor and the examiner as `on_behalf_of`. A draft the examiner
left online is replaced by the paper values (the paper sheet is what they signed).

A sheet that is already submitted (online or from paper) changes only with a reason, through
`scoring.change_submitted`, which audits before/after values and recomputes a confirmed score.
"""

from sqlalchemy.exc import IntegrityError

from app import audit, db
from app.models import Candidate, ExaminerScore, ScoreItem, User
from app.scoring.rules import sheet_total
from app.scoring.service import (
    ABOUT_EXAMINER,
    ScoreError,
    change_submitted,
    check_examiner,
    dimensions_of,
    parse_values,
    result_of,
    sheet_of,
)
from app.timeutil import utcnow


def _check_first_entry(candidate: Candidate, examiner: User) -> None:
    check_examiner(candidate, examiner, say=ABOUT_EXAMINER)
    if result_of(candidate.id) is not None:
        raise ScoreError("confirmed_change_only")


def enter_from_paper(
    candidate: Candidate, examiner: User, raw: dict, hr: User, reason: str = ""
) -> ExaminerScore:
    """Save and submit `examiner`'s sheet from paper; changing a submitted one needs `reason`."""
    sheet = sheet_of(candidate.id, examiner.id)
    if sheet is not None and sheet.status == "submitted":
        return change_submitted(candidate, examiner, raw, reason, by=hr, entered_from_paper=True)
    _check_first_entry(candidate, examiner)
    dims = dimensions_of(candidate.exam_id)
    if not dims:
        raise ScoreError("no_score_sheet")
    values = parse_values(dims, raw, complete=True)
    draft = (
        {str(i.dimension_id): str(i.value) for i in sheet.items if i.value is not None}
        if sheet
        else None
    )
    if sheet is None:
        sheet = ExaminerScore(candidate_id=candidate.id, examiner_id=examiner.id)
        db.session.add(sheet)
    existing = {item.dimension_id: item for item in sheet.items}
    for dimension_id, value in values.items():
        if dimension_id in existing:
            existing[dimension_id].value = value
        else:
            sheet.items.append(ScoreItem(dimension_id=dimension_id, value=value))
    sheet.status = "submitted"
    sheet.submitted_at = utcnow()
    sheet.entered_by_id = hr.id
    audit.record(
        "score.submitted",
        candidate=candidate,
        actor=hr,
        examiner=examiner.id,
        on_behalf_of=examiner.id,
        paper=True,
        total=str(sheet_total(values)),
        after={str(k): str(v) for k, v in values.items()},
        replaced_draft=draft,
        reason=(reason or "").strip() or None,
    )
    try:
        db.session.commit()
    except IntegrityError:
        # The examiner submitted the same sheet online at the same moment: the unique
        # constraint keeps theirs, and HR sees it on reload.
        db.session.rollback()
        raise ScoreError("paper_conflict") from None
    return sheet
