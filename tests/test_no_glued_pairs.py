"""Issue 17: staff pages glued 553 "中文 English" pairs by hand, so buttons wrapped to three lines.
Every such string now goes through gettext (app/i18n.py), scripts' words come from the page;
this keeps it that way."""

from pathlib import Path

from tests.glued_pairs import ROOT, find_glued


def test_no_glued_pairs_remain_in_templates_or_code():
    found = find_glued([ROOT / "app"])
    assert found == [], "\n".join(found[:30])


def test_the_scan_finds_a_glued_pair_and_leaves_names_and_gettext_alone(tmp_path: Path):
    page = tmp_path / "page.html"
    page.write_text(
        "<p>已提交 Submitted</p>\n"
        '<button title="保存草稿 Save draft">{{ _("Save draft") }}</button>\n'
        "<p>请使用 Chrome 浏览器，不要用 XLSX 以外的文件。</p>\n"
        '{# 注释 comments are fine #}<p>{{ _("考生 %(n)s", n=1) }}</p>\n'
        "<h2>面试间 <small>Panel room</small></h2>\n",
        encoding="utf-8",
    )
    code = tmp_path / "code.py"
    code.write_text(
        '"""Docstring 说明 explaining."""\nflash("通知已发布。 Notice posted.")\nflash(f"已导入 {n} 名考生。 {n} imported")\nok = "请使用 Chrome 浏览器"\n',
        encoding="utf-8",
    )
    script = tmp_path / "page.js"
    script.write_text(
        "// 提醒 reminders live in the page\n"
        'var REMINDERS = { warn: "还剩 3 分钟。 3 minutes left." };\n'
        "var ok = '请使用 Chrome 浏览器';\n",
        encoding="utf-8",
    )
    found = find_glued([page, code, script])
    assert sorted(hit.split(": ", 1)[1] for hit in found) == sorted(
        [
            "已提交 Submitted",
            "保存草稿 Save draft",
            "通知已发布。 Notice posted.",
            "还剩 3 分钟。 3 minutes left.",
            "面试间  Panel room",
            "已导入 0 名考生。 0 imported",
        ]
    )
