"""Code slips (邀请码通知单): what HR sends each candidate, as rows for CSV and XLSX."""

from sqlalchemy import select

from app import db
from app.exports import csv_bytes, xlsx_bytes
from app.models import Candidate, Exam, Panel
from app.timeutil import format_beijing

# The column keys stay what `flask candidates codes` prints, for scripts that read it; HR's
# downloads add the Chinese each key stands for, as the results export does ("姓名 name").
SLIP_HEADER = ["name", "code", "position", "panel", "exam", "login_opens", "login_closes", "phone"]
SLIP_LABELS = {
    "name": "姓名",
    "code": "邀请码",
    "position": "报考岗位",
    "panel": "考场",
    "exam": "考试",
    "login_opens": "登录开始（北京时间）",
    "login_closes": "登录截止（北京时间）",
    "phone": "手机号",
}
SLIP_HEADER_FOR_HR = [f"{SLIP_LABELS[key]} {key}" for key in SLIP_HEADER]


def slip_rows(exam: Exam) -> list[list[str]]:
    rows = db.session.execute(
        select(Candidate, Panel.name)
        .outerjoin(Panel, Panel.id == Candidate.panel_id)
        .where(Candidate.exam_id == exam.id)
        .order_by(Candidate.position, Candidate.id)
    ).all()
    opens, closes = format_beijing(exam.login_opens_at), format_beijing(exam.login_closes_at)
    return [
        [c.name, c.code, c.position, panel_name or "", exam.name, opens, closes, c.phone]
        for c, panel_name in rows
    ]


def slips_csv(exam: Exam) -> bytes:
    return csv_bytes(SLIP_HEADER_FOR_HR, slip_rows(exam))


def slips_xlsx(exam: Exam) -> bytes:
    # Every slip cell is str, so text: as a number a code would lose its leading zeros.
    return xlsx_bytes(SLIP_HEADER_FOR_HR, slip_rows(exam), title="邀请码")
