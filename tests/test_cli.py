"""The command line an operator uses: import, codes, seed-demo."""

import csv
import io
import json

from sqlalchemy import func, select

from app import db
from app.models import AuditEvent, Candidate, Exam, Panel, User
from tests.factories import gen_exam
from tests.test_candidate_import import gen_id_number  # the independent check-digit helper


def _csv(rows, encoding="utf-8"):
    lines = ["姓名,身份证号,手机号,报考岗位"] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def test_import_then_codes(app, runner, tmp_path):
    exam = gen_exam()
    good = tmp_path / "名单.csv"
    good.write_bytes(
        _csv(
            [
                ["张三", gen_id_number("110105", "19900307"), "13800138000", "综合管理岗"],
                ["李四", gen_id_number("110105", "19910412"), "13900139000", "信息技术岗"],
            ],
            "gbk",
        )
    )
    result = runner.invoke(args=["candidates", "import", str(exam.id), str(good)])
    assert result.exit_code == 0, result.output
    assert "imported 2 candidates" in result.output

    result = runner.invoke(args=["candidates", "codes", str(exam.id)])
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][:2] == ["name", "code"]
    by_name = {r[0]: r[1] for r in rows[1:]}
    assert set(by_name) == {"张三", "李四"}
    stored = dict(db.session.execute(select(Candidate.name, Candidate.code)).all())
    assert by_name == stored and all(len(c) == 6 and c.isdigit() for c in stored.values())


def test_bad_gbk_file_is_refused_with_row_numbers_and_changes_nothing(app, runner, tmp_path):
    exam = gen_exam()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        _csv(
            [
                ["张三", gen_id_number("110105", "19900307"), "13800138000", "综合管理岗"],
                ["李四", "110105199104120000", "13900139000", "信息技术岗"],  # wrong check digit
                ["王五", gen_id_number("110105", "19920101"), "12345", "信息技术岗"],  # bad phone
            ],
            "gbk",
        )
    )
    events_before = db.session.scalar(select(func.count(AuditEvent.id)))
    result = runner.invoke(args=["candidates", "import", str(exam.id), str(bad)])
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert (
        "第 3 行" in result.output and "第 4 行" in result.output and "第 2 行" not in result.output
    )
    assert db.session.scalar(select(func.count(Candidate.id))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events_before


def test_unknown_exam_is_a_clear_error(app, runner, tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(_csv([]))
    result = runner.invoke(args=["candidates", "codes", "999"])
    assert result.exit_code != 0 and "no exam with id 999" in result.output
    result = runner.invoke(args=["candidates", "import", "999", str(f)])
    assert result.exit_code != 0 and "no exam with id 999" in result.output


def test_seed_demo_json_has_the_promised_shape(app, runner):
    result = runner.invoke(args=["seed-demo", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"exams", "staff", "candidates"}
    assert {e["kind"] for e in data["exams"]} == {"formal", "mock"}
    assert all(set(e) == {"id", "name", "kind"} for e in data["exams"])
    assert {s["role"] for s in data["staff"]} == {
        "admin",
        "hr",
        "assistant",
        "examiner",
        "supervisor",
    }
    assert all(set(s) == {"username", "password", "role"} for s in data["staff"])
    assert len(data["candidates"]) >= 10
    assert all(set(c) == {"name", "code", "exam_id", "panel"} for c in data["candidates"])
    codes = [c["code"] for c in data["candidates"]]
    assert len(set(codes)) == len(codes)  # both exams are open at once: no shared code

    # the printed accounts really sign in, and every candidate's code works now
    for person in data["staff"]:
        user = db.session.scalars(select(User).filter_by(username=person["username"])).one()
        assert user.check_password(person["password"])
    panel = db.session.scalars(select(Panel)).first()
    assert panel.chief_examiner_id is not None and len(panel.members) == 6
    # The formal exam's two panels share the exam-wide 题本 A (the cross-panel release rule).
    from app.setup.question_sharing import panels_sharing_questions

    formal_panels = {p.name for p in panels_sharing_questions(panel.id)}
    assert formal_panels == {"第一考场", "第二考场"}
    assert {c["panel"] for c in data["candidates"]} == {"第一考场", "第二考场", "模拟考场"}
    formal = db.session.get(Exam, data["exams"][0]["id"])
    from app.timeutil import utcnow

    assert formal.login_open_at(utcnow())


def test_seed_demo_refuses_a_database_with_data(app, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code != 0 and "already has" in again.output
