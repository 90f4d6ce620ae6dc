"""The results table of an exam, ranked per position (岗位), as rows for CSV and XLSX.

A fixed number of queries whatever the number of candidates: everything is loaded in bulk and
joined in memory.
"""

from collections import defaultdict
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import db
from app.exports import Cell, Sheet, csv_bytes, xlsx_book
from app.models import (
    Candidate,
    CandidateResult,
    Exam,
    ExaminerScore,
    Panel,
    PanelMember,
    PanelRole,
    Recusal,
    ScoreDimension,
    ScoreItem,
    User,
)
from app.models.candidate import OUT, STATE_LABELS, CandidateState
from app.scoring.rules import rank, sheet_total
from app.timeutil import format_beijing

# The files are worded as they always were, whoever downloads them: column names in both
# languages (HR's spreadsheets look them up by these names; the page uses them as keys too), and
# the cells in Chinese (made under zh_CN, see `in_files_words`).
FILE_LOCALE = "zh_CN"


def _column(chinese: str, english: str) -> str:
    return f"{chinese} {english}"


NAME = _column("姓名", "name")
ID_NUMBER = _column("身份证号", "id_number")
PHONE = _column("手机号", "phone")
POSITION = _column("报考岗位", "position")
PANEL = _column("考场", "panel")
LOT = _column("签号", "lot")
STATE = _column("状态", "state")
FINAL = _column("最终成绩", "final")
PUBLISHED = _column("已公布", "published")
RANK = _column("岗位排名", "rank")
CANDIDATE_CONFIRMED = _column("考生确认", "candidate confirmed")
RECUSED = "回避"  # a seat's cell for an examiner who stepped aside (the files stay Chinese)
SEAT_COLUMN = _column("考官{n}总分", "examiner {n}")  # one per seat of the panel, in 考官席位
CONFIRMED_AT = _column("确认时间", "confirmed at") + " (北京时间)"

# What the results show for the OUT states instead of a score, by the row's state string.
MARKED: dict[str, LazyString] = {
    CandidateState.ABSENT: _l("Absent"),
    CandidateState.DISQUALIFIED: _l("Disqualified"),
    CandidateState.DECLINED: _l("Declined"),
}


def exam_ranks(exam: Exam) -> dict[int, int]:
    """Each scored candidate's rank within her 岗位 over the whole exam, by candidate id: from
    light rows (id, position, state, final score), so one page of results ranks as the files do.
    """
    entries = db.session.execute(
        select(Candidate.id, Candidate.position, Candidate.state, CandidateResult.final_score)
        .outerjoin(CandidateResult, CandidateResult.candidate_id == Candidate.id)
        .where(Candidate.exam_id == exam.id)
        .order_by(Candidate.position, Candidate.lot_number, Candidate.id)
    ).all()
    first_dimension = None
    if exam.tie_rule == "first_dimension":
        first_dimension = db.session.scalar(
            select(ScoreDimension.id)
            .where(ScoreDimension.exam_id == exam.id)
            .order_by(ScoreDimension.position, ScoreDimension.id)
            .limit(1)
        )
    firsts: dict[int, list[Decimal]] = defaultdict(list)
    if first_dimension is not None:
        for candidate_id, value in db.session.execute(
            select(ExaminerScore.candidate_id, ScoreItem.value)
            .join(ScoreItem, ScoreItem.examiner_score_id == ExaminerScore.id)
            .where(
                ExaminerScore.candidate_id.in_(_exam_candidate_ids(exam)),
                ExaminerScore.status == "submitted",
                ScoreItem.dimension_id == first_dimension,
                ScoreItem.value.is_not(None),
            )
        ):
            if value is not None:  # filtered above; the column is nullable
                firsts[candidate_id].append(value)

    def breakers(candidate_id: int) -> tuple:
        if first_dimension is None:
            return ()
        values = firsts.get(candidate_id)
        return (sum(values, Decimal(0)) / len(values),) if values else (Decimal(-1),)

    by_position: dict[str, list] = defaultdict(list)
    for candidate_id, position, state, final_score in entries:
        score = final_score if state not in OUT else None
        by_position[position].append((candidate_id, score, breakers(candidate_id)))
    ranks: dict[int, int] = {}
    for scored in by_position.values():
        ranks.update(rank(scored, exam.tie_rule))
    return ranks


def _exam_candidate_ids(exam: Exam):
    return select(Candidate.id).where(Candidate.exam_id == exam.id).scalar_subquery()


def results_cells(
    exam: Exam, panel_id: int | None = None, *, candidates: list[Candidate] | None = None
) -> tuple[list[str], list[list]]:
    """The table with typed cells: totals and final scores as Decimal, lot and rank as int, and
    None where there is nothing, so the XLSX holds numbers HR can sort and sum.

    With `panel_id`, only that panel's rows; with `candidates` (one page of the results page),
    only theirs, in their order. Ranks stay those of the whole exam's 岗位 either way."""
    if candidates is None:
        candidates = list(
            db.session.scalars(
                select(Candidate)
                .where(Candidate.exam_id == exam.id)
                .order_by(Candidate.position, Candidate.lot_number, Candidate.id)
            )
        )
        # The exam's candidates as a subquery: thousands of ids as bind parameters cost more
        # to send than the rows they fetch.
        scope = _exam_candidate_ids(exam)
    else:
        scope = [c.id for c in candidates]
    panels = {p.id: p for p in db.session.scalars(select(Panel).where(Panel.exam_id == exam.id))}
    examiners_by_panel = seats_by_panel(panels)
    sheets = {
        (s.candidate_id, s.examiner_id): s
        for s in db.session.scalars(
            select(ExaminerScore)
            .options(selectinload(ExaminerScore.items))
            .where(ExaminerScore.candidate_id.in_(scope), ExaminerScore.status == "submitted")
        )
    }
    recused = {
        (r.candidate_id, r.examiner_id)
        for r in db.session.scalars(select(Recusal).where(Recusal.candidate_id.in_(scope)))
    }
    results = {
        r.candidate_id: r
        for r in db.session.scalars(
            select(CandidateResult).where(CandidateResult.candidate_id.in_(scope))
        )
    }
    ranks = exam_ranks(exam)

    width = max((len(v) for v in examiners_by_panel.values()), default=0)
    header = (
        [NAME, ID_NUMBER, PHONE, POSITION, PANEL, LOT, STATE]
        + [SEAT_COLUMN.format(n=i + 1) for i in range(width)]
        + [FINAL, PUBLISHED, RANK]
        + [CANDIDATE_CONFIRMED, CONFIRMED_AT]
    )
    # In the request's language on the page; the files render under FILE_LOCALE. Each state's
    # word is looked up once, not once a row.
    states: dict[str, str] = {}
    rows = []
    for c in candidates:
        if panel_id is not None and c.panel_id != panel_id:
            continue
        cells: list[Cell] = []
        for examiner_id in examiners_by_panel.get(c.panel_id, []):
            if (c.id, examiner_id) in recused:
                cells.append(RECUSED)
            elif (c.id, examiner_id) in sheets:
                sheet = sheets[(c.id, examiner_id)]
                cells.append(sheet_total({i.dimension_id: i.value for i in sheet.items}))
            else:
                cells.append(None)
        cells += [None] * (width - len(cells))
        result = results.get(c.id)
        if c.state not in states:
            states[c.state] = str(
                MARKED.get(c.state) or STATE_LABELS.get(CandidateState(c.state), c.state)
            )
        rows.append(
            [
                c.name,
                c.id_number,
                c.phone,
                c.position,
                panels[c.panel_id].name if c.panel_id in panels else "",
                c.lot_number,
                states[c.state],
                *cells,
                result.final_score if result and c.state not in OUT else None,
                "是" if result and result.published_at else "否",
                ranks.get(c.id),
                *_confirmation(result),
            ]
        )
    return header, rows


def seats_by_panel(panels) -> dict[int | None, list[int]]:
    """Each panel's examiners in seat order (考官1, 考官2, …: the columns of the results), by
    panel id; a candidate without a panel (None) finds no examiners."""
    seats: dict[int | None, list[int]] = defaultdict(list)
    for member in db.session.scalars(
        select(PanelMember)
        .where(PanelMember.panel_id.in_(panels), PanelMember.role == PanelRole.EXAMINER)
        .order_by(PanelMember.user_id)
    ):
        seats[member.panel_id].append(member.user_id)
    return seats


SEATS_HEADER = [
    PANEL,
    _column("席位", "seat"),
    _column("考官", "examiner"),
    _column("身份", "role"),
]
CHIEF_SEAT = _column("主考官", "chief")
EXAMINER_SEAT = _column("考官", "examiner")


def seat_rows(exam: Exam) -> list[list[Cell]]:
    """Who sat in which seat of which panel: the legend of the results' 考官N总分 columns, so
    the sheet names every examiner whose total it shows."""
    panels = {
        p.id: p
        for p in db.session.scalars(
            select(Panel).where(Panel.exam_id == exam.id).order_by(Panel.name, Panel.id)
        )
    }
    seats = seats_by_panel(panels)
    names = dict(
        db.session.execute(
            select(User.id, User.display_name).where(
                User.id.in_([uid for ids in seats.values() for uid in ids])
            )
        ).all()
    )
    rows: list[list[Cell]] = []
    for panel_id, panel in panels.items():
        for seat, user_id in enumerate(seats.get(panel_id, []), start=1):
            role = CHIEF_SEAT if user_id == panel.chief_examiner_id else EXAMINER_SEAT
            rows.append([panel.name, f"考官{seat}", names.get(user_id, ""), role])
    return rows


def _confirmation(result: CandidateResult | None) -> tuple[str, str | None]:
    """考生确认 and its time: only a published score can be confirmed; a corrected one asks
    again (app/scoring/service.py), so "否" until she confirms the score she now sees."""
    if result is None or result.published_at is None:
        return "", None
    seen = result.seen_by_candidate_at
    if seen is None:
        return "否", None
    return "是", format_beijing(seen, "%Y-%m-%d %H:%M")


def results_table(
    exam: Exam, candidates: list[Candidate] | None = None
) -> tuple[list[str], list[list]]:
    """The table as the results page shows it: scores as text ("85.00"), "" where there is
    nothing; lot and rank stay int."""
    header, rows = results_cells(exam, candidates=candidates)
    return header, [[_shown(value) for value in row] for row in rows]


def _shown(value):
    if value is None:
        return ""
    return str(value) if isinstance(value, Decimal) else value


def results_csv(exam: Exam) -> bytes:
    with force_locale(FILE_LOCALE):
        return csv_bytes(*results_cells(exam))


def results_xlsx(exam: Exam) -> bytes:
    """成绩 (printed landscape under the title 成绩汇总表, the header on every page), then the
    seats' legend naming each examiner. ID numbers and phones are str, so they stay text: as
    numbers Excel would cut them to 15 digits."""
    with force_locale(FILE_LOCALE):
        header, rows = results_cells(exam)
    return xlsx_book(
        [
            Sheet("成绩", header, rows, print_title=f"成绩汇总表 · {exam.name}", landscape=True),
            Sheet("考官席位", SEATS_HEADER, seat_rows(exam), print_title=f"考官席位 · {exam.name}"),
        ]
    )
