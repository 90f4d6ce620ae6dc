"""HR's invitation codes (邀请码): the list, a new code for one candidate, the slips (通知单)."""

import csv
import io

from flask import flash, g, make_response, redirect, render_template, url_for
from openpyxl import Workbook

from app import audit
from app.models import Candidate
from app.routes.hr import bp
from app.routes.hr.lookups import child_or_404, exam_or_404, saved_or_flash_stale
from app.setup.codes import allocate_codes
from app.setup.roster import exam_candidates
from app.setup.slips import SLIP_HEADER, slip_rows


@bp.get("/exams/<int:exam_id>/codes")
def codes(exam_id: int):
    exam = g.exam
    return render_template("hr/codes.html", exam=exam, candidates=exam_candidates(exam))


@bp.post("/exams/<int:exam_id>/candidates/<int:candidate_id>/code")
def regenerate_code(exam_id: int, candidate_id: int):
    exam = g.exam
    candidate = child_or_404(Candidate, candidate_id)
    if candidate.session_nonce is not None:
        flash(
            f"{candidate.name} 已用邀请码登录过，不能再更换。 "
            "The candidate has signed in with this code: it cannot change now.",
            "error",
        )
        return redirect(url_for("hr.codes", exam_id=exam.id))
    (code,) = allocate_codes(exam, 1)
    # Codes are secrets: the log keeps enough to tell them apart, not enough to sign in.
    audit.record(
        "candidate.code_regenerated",
        candidate=candidate,
        before={"code_tail": candidate.code[-2:]},
        after={"code_tail": code[-2:]},
    )
    candidate.code = code
    if saved_or_flash_stale():
        flash(
            f"已为 {candidate.name} 生成新邀请码，请重新发送通知单。 New code made: send the slip again.",
            "success",
        )
    return redirect(url_for("hr.codes", exam_id=exam.id))


def _csv_cell(value: str) -> str:
    """Text that Excel shows as text: a leading = + - @ would otherwise start a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _download(data: bytes, mimetype: str, filename: str):
    response = make_response(data)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/exams/<int:exam_id>/slips.csv")
def slips_csv(exam_id: int):
    exam = exam_or_404(exam_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SLIP_HEADER)
    for row in slip_rows(exam):
        writer.writerow([_csv_cell(value) for value in row])
    # The BOM makes Excel on Chinese Windows read UTF-8 instead of guessing GBK.
    data = ("\ufeff" + out.getvalue()).encode("utf-8")
    return _download(data, "text/csv", f"slips-exam-{exam.id}.csv")


@bp.get("/exams/<int:exam_id>/slips.xlsx")
def slips_xlsx(exam_id: int):
    exam = exam_or_404(exam_id)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "邀请码"
    sheet.append(SLIP_HEADER)
    for row in slip_rows(exam):
        sheet.append(row)
        # Every cell is text: a number would lose a code's leading zeros, and openpyxl would
        # write a name starting with "=" as a formula.
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"
            cell.number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return _download(
        out.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"slips-exam-{exam.id}.xlsx",
    )


@bp.get("/exams/<int:exam_id>/slips")
def slips_print(exam_id: int):
    exam = g.exam
    return render_template(
        "hr/slips.html",
        exam=exam,
        candidates=exam_candidates(exam),
        login_url=url_for("candidate.index", _external=True),
    )
