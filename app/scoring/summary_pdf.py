"""成绩汇总表 as a PDF, one per panel: the table the examiners and the chief sign on the day and
the exam office archives.

Made with ReportLab. The Chinese text uses the PDF standard's Adobe-GB1 CID font STSong-Light,
which every PDF reader supplies (Acrobat, Chrome's and Firefox's viewers, poppler), so the file
carries no font and no font has to be installed on the server.
"""

import io
from xml.sax.saxutils import escape

from flask_babel import force_locale
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select

from app import db
from app.day.schedule import start_of
from app.models import Exam, Panel, User
from app.scoring.results import (
    FILE_LOCALE,
    FINAL,
    LOT,
    NAME,
    POSITION,
    RANK,
    SEAT_COLUMN,
    STATE,
    results_cells,
    seats_by_panel,
)
from app.scoring.rules import Rule
from app.timeutil import format_beijing, utcnow

FONT = "STSong-Light"
# Columns of the results table the signed sheet shows (phones and ID numbers stay off paper
# that goes round the examiners' table), by the results' own header.
COLUMNS = [(LOT, "签号"), (NAME, "姓名"), (POSITION, "报考岗位"), (STATE, "状态")]
TAIL = [(FINAL, "最终成绩"), (RANK, "岗位排名")]


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1),
        "sub": ParagraphStyle("sub", fontName=font, fontSize=10.5, leading=15, alignment=1),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=9.5, leading=12),
        "note": ParagraphStyle("note", fontName=font, fontSize=9.5, leading=14),
        "sign": ParagraphStyle("sign", fontName=font, fontSize=11, leading=26),
    }


def _text(value) -> str:
    return "" if value is None else escape(str(value))


def _seated_examiners(panel: Panel, seats: int) -> list[tuple[str, User]]:
    """(seat label, examiner) in the results' seat order; the chief signs last, as 主考官."""
    ids = seats_by_panel({panel.id: panel}).get(panel.id, [])[:seats]
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    return [(f"考官{i}", users[uid]) for i, uid in enumerate(ids, start=1) if uid in users]


def panel_summary_pdf(exam: Exam, panel: Panel) -> bytes:
    """The panel's 成绩汇总表: every candidate of the panel in lot order with each seat's total,
    the final score and the 岗位 rank, the scoring rule, and a signature line per examiner."""
    with force_locale(FILE_LOCALE):  # paper is worded in Chinese whoever prints it
        return _summary_pdf(exam, panel)


def _summary_pdf(exam: Exam, panel: Panel) -> bytes:
    header, rows = results_cells(exam, panel_id=panel.id)
    seat_columns = [
        SEAT_COLUMN.format(n=n)
        for n in range(1, len(header) + 1)
        if SEAT_COLUMN.format(n=n) in header
    ]
    picked = [*COLUMNS, *((h, h.split(" ")[0]) for h in seat_columns), *TAIL]
    index = {h: i for i, h in enumerate(header)}
    rows = sorted(rows, key=lambda r: (r[index[LOT]] is None, r[index[LOT]] or 0))
    styles = _styles()

    table_rows = [[Paragraph(label, styles["cell"]) for _key, label in picked]]
    for row in rows:
        table_rows.append([Paragraph(_text(row[index[key]]), styles["cell"]) for key, _ in picked])
    if len(table_rows) == 1:
        table_rows.append(
            [Paragraph("本考场暂无考生。", styles["cell"])] + [""] * (len(picked) - 1)
        )
    table = Table(table_rows, repeatRows=1, hAlign="CENTER")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )

    chief_id = panel.chief_examiner_id
    signatures = []
    for seat, user in _seated_examiners(panel, len(seat_columns)):
        if user.id == chief_id:
            continue
        signatures.append(f"{seat} {escape(user.display_name)}　签名：______________")
    chief = db.session.get(User, chief_id) if chief_id else None
    chief_line = f"主考官 {escape(chief.display_name) if chief else ''}　签名：______________"

    story = [
        Paragraph(escape(exam.name), styles["title"]),
        Paragraph(
            f"成绩汇总表　{escape(panel.name)}　面试日期 {format_beijing(start_of(exam), '%Y-%m-%d')}",
            styles["sub"],
        ),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 4 * mm),
        Paragraph(f"计分规则：{escape(Rule.of_exam(exam).describe())}。", styles["note"]),
        Paragraph(
            f"共 {len(rows)} 名考生。导出时间 {format_beijing(utcnow())}（北京时间）。",
            styles["note"],
        ),
        Spacer(1, 6 * mm),
        *(Paragraph(line, styles["sign"]) for line in signatures),
        Paragraph(chief_line, styles["sign"]),
        Paragraph("日期：________年____月____日", styles["sign"]),
    ]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{exam.name} 成绩汇总表 {panel.name}",
        author="Interview Room",
    )

    def page_number(canvas, doc):
        canvas.saveState()
        canvas.setFont(_font(), 9)
        canvas.drawCentredString(landscape(A4)[0] / 2, 8 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    document.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return out.getvalue()
