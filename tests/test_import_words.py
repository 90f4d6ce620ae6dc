"""The import's problems are worded for the HR member who reads them: the Chinese that HR has
always read by default, English for one who chose it (app/setup/candidate_file.py, id_checks.py)."""

import io

from tests.conftest import csrf_token_from, signed_in_staff
from tests.factories import gen_exam, gen_user

# Row 2: no name, and an ID number with a letter in it; row 3 is fine but for its mobile.
CSV = (
    "姓名,身份证号,手机号,报考岗位\r\n"
    ",11010519900307A23X,13800138000,综合管理岗\r\n"
    "李四,11010519491231002X,1380013800,财务岗\r\n"
).encode()


def _upload(app, exam) -> str:
    client = signed_in_staff(app, "hr")
    page = client.get(f"/hr/exams/{exam.id}/import").get_data(as_text=True)
    response = client.post(
        f"/hr/exams/{exam.id}/import",
        data={"file": (io.BytesIO(CSV), "名单.csv"), "csrf_token": csrf_token_from(page)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    return response.get_data(as_text=True)


def test_row_errors_are_in_chinese_by_default(app):
    gen_user("hr")
    page = _upload(app, gen_exam("2026年事业单位面试"))
    assert "第 2 行：姓名为空；身份证号格式不正确（前 17 位须为数字，末位为数字或 X）" in page
    assert "第 3 行：手机号不正确（应为 1 开头、第二位为 3–9 的 11 位数字）" in page


def test_row_errors_are_in_english_for_an_hr_member_who_chose_it(app):
    gen_user("hr", language="en")
    page = _upload(app, gen_exam("2026年事业单位面试"))
    assert (
        "Row 2: the name is empty; the ID number is malformed (the first 17 characters must be"
        " digits, the last a digit or X)"
    ) in page
    assert (
        "Row 3: the mobile number is wrong (it should be 11 digits, starting with 1, the second"
        " digit 3–9)"
    ) in page
    assert "第 2 行" not in page and "姓名为空" not in page
