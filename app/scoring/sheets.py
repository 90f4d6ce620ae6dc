"""Setting up an exam's score sheet (评分表): its dimensions (评分要素), maximums, guidance, order.

The sheet is frozen as soon as any examiner sheet (draft or submitted) exists for the exam:
values are stored per dimension, so renaming, rescaling, adding or removing a dimension under
them would silently change what examiners already scored. HR is told why instead.

A sheet that does not add up to 100 is allowed (some exams use other scales) but flagged.
Every change is one transaction with its audit event.
"""

from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from app import audit, db
from app.models import Candidate, Exam, ExaminerScore, ScoreDimension
from app.refusals import lazy_message_of
from app.scoring.service import ScoreError, dimensions_of

ONE_DECIMAL = Decimal("0.1")
MAX_ALLOWED = Decimal(100)
USUAL_TOTAL = Decimal(100)
FROZEN_MESSAGE = lazy_message_of("sheet_frozen")  # HR's sheet page says it before anyone tries
# The sheet most structured interviews (结构化面试) of civil-service style use.
USUAL_SHEET = [
    ("综合分析能力", "20", "对事物能从宏观和微观两方面考虑，分析问题全面、透彻、有条理。"),
    (
        "计划组织协调能力",
        "15",
        "能够依据部门目标预见未来的要求、机会和不利因素，并作出计划；合理配置资源。",
    ),
    ("应变能力", "15", "压力状况下思维反应敏捷，情绪稳定，考虑问题周到。"),
    ("人际沟通能力", "15", "人际合作的主动性，理解组织中的权属关系，沟通的有效性。"),
    ("言语表达能力", "20", "理解他人意思，口齿清晰、流畅，内容有条理、富有逻辑性。"),
    ("举止仪表", "15", "穿着打扮得体，言行举止符合一般礼节，无多余动作。"),
]


def is_frozen(exam_id: int) -> bool:
    """True once any examiner sheet exists for a candidate of the exam."""
    return (
        db.session.execute(
            select(func.count(ExaminerScore.id))
            .join(Candidate, Candidate.id == ExaminerScore.candidate_id)
            .where(Candidate.exam_id == exam_id)
        ).scalar_one()
        > 0
    )


def sheet_total(dimensions: list[ScoreDimension]) -> Decimal:
    return sum((d.max_score for d in dimensions), Decimal(0))


def parse_maximum(text: str) -> Decimal:
    """A maximum as HR types it: a number above 0, at most 100, at most one decimal."""
    text = (text or "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ScoreError("maximum_not_number", text=text) from None
    if not value.is_finite() or value <= 0 or value > MAX_ALLOWED:
        raise ScoreError("maximum_out_of_range")
    if value != value.quantize(ONE_DECIMAL):
        raise ScoreError("maximum_decimals")
    return value.quantize(ONE_DECIMAL)


def _clean(name: str, guidance: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise ScoreError("dimension_unnamed")
    if len(name) > 100:
        raise ScoreError("dimension_name_too_long")
    # Browsers send textarea line breaks as CRLF; store them as examiners will read them.
    return name, (guidance or "").replace("\r\n", "\n").strip()


def _check_editable(
    exam: Exam, name: str | None = None, dimension: ScoreDimension | None = None
) -> None:
    if is_frozen(exam.id):
        raise ScoreError("sheet_frozen")
    if name is not None:
        clash = [d for d in dimensions_of(exam.id) if d.name == name and d is not dimension]
        if clash:
            raise ScoreError("dimension_name_taken", dimension=name)


def _snapshot(dim: ScoreDimension) -> dict:
    return {
        "name": dim.name,
        "max_score": str(dim.max_score),
        "guidance": dim.guidance,
        "position": dim.position,
    }


def add_dimension(exam: Exam, name: str, maximum: str, guidance: str = "") -> ScoreDimension:
    name, guidance = _clean(name, guidance)
    value = parse_maximum(maximum)
    _check_editable(exam, name)
    position = len(dimensions_of(exam.id))
    dim = ScoreDimension(
        exam_id=exam.id, name=name, max_score=value, guidance=guidance, position=position
    )
    db.session.add(dim)
    db.session.flush()
    audit.record(
        "score_sheet.dimension_added", exam_id=exam.id, dimension=dim.id, after=_snapshot(dim)
    )
    db.session.commit()
    return dim


def update_dimension(
    exam: Exam, dim: ScoreDimension, name: str, maximum: str, guidance: str = ""
) -> None:
    name, guidance = _clean(name, guidance)
    value = parse_maximum(maximum)
    _check_editable(exam, name, dim)
    before = _snapshot(dim)
    dim.name, dim.max_score, dim.guidance = name, value, guidance
    after = _snapshot(dim)
    if after != before:
        audit.record(
            "score_sheet.dimension_changed",
            exam_id=exam.id,
            dimension=dim.id,
            before=before,
            after=after,
        )
    db.session.commit()


def _renumber(dims: list[ScoreDimension]) -> None:
    for position, dim in enumerate(dims):
        dim.position = position


def remove_dimension(exam: Exam, dim: ScoreDimension) -> None:
    _check_editable(exam)
    audit.record(
        "score_sheet.dimension_removed", exam_id=exam.id, dimension=dim.id, before=_snapshot(dim)
    )
    db.session.delete(dim)
    db.session.flush()
    _renumber(dimensions_of(exam.id))
    db.session.commit()


def move_dimension(exam: Exam, dim: ScoreDimension, step: int) -> None:
    """Move a dimension one place up (step -1) or down (+1); at either end nothing moves."""
    _check_editable(exam)
    dims = dimensions_of(exam.id)
    index = next(i for i, d in enumerate(dims) if d.id == dim.id)
    target = index + step
    if not 0 <= target < len(dims):
        return
    before = [d.id for d in dims]
    dims[index], dims[target] = dims[target], dims[index]
    _renumber(dims)
    audit.record(
        "score_sheet.reordered", exam_id=exam.id, before=before, after=[d.id for d in dims]
    )
    db.session.commit()


def add_usual_sheet(exam: Exam) -> list[ScoreDimension]:
    """Fill an empty sheet with the usual six dimensions adding up to 100, for HR to adjust."""
    _check_editable(exam)
    if dimensions_of(exam.id):
        raise ScoreError("sheet_not_empty")
    dims = [
        ScoreDimension(
            exam_id=exam.id, name=name, max_score=Decimal(maximum), guidance=guidance, position=i
        )
        for i, (name, maximum, guidance) in enumerate(USUAL_SHEET)
    ]
    db.session.add_all(dims)
    db.session.flush()
    audit.record(
        "score_sheet.usual_sheet_added", exam_id=exam.id, after=[_snapshot(d) for d in dims]
    )
    db.session.commit()
    return dims
