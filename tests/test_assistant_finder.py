"""The violation form's candidate finder (issue 17): found by lot number, name or ID-number tail as
one types, at most 20, only the panel's candidates, nothing shown that the console hides; the form
posts the chosen id, or without JavaScript what was typed; bad input is refused and records
nothing; the console no longer grows with the exam."""

import re

import pytest
from sqlalchemy import func, select

from app import db
from app.models import Candidate, Panel, PanelMember, Role, Violation
from tests.conftest import csrf_token_from, signed_in_staff
from tests.factories import World, gen_user

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    w = World(candidates=0)
    people = [
        ("张三", "110105199001011234", 1),
        ("张三丰", "110105199001015678", 2),
        ("李四", "11010519900101902X", 3),
        ("王五", "110105199001010007", None),
    ]
    for i, (name, id_number, lot) in enumerate(people):
        c = Candidate(
            exam_id=w.exam.id,
            panel_id=w.panel.id,
            name=name,
            id_number=id_number,
            phone=f"1380013{i:04d}",
            position="综合管理岗",
            code=f"{200000 + i}",
            lot_number=lot,
        )
        db.session.add(c)
        w.candidates.append(c)
    db.session.commit()
    return w


@pytest.fixture
def assistant(app, world):
    return signed_in_staff(app, "assistant")


def _find(client, world, q, panel_id=None):
    response = client.get(
        f"/assistant/panels/{panel_id or world.panel.id}/violations/candidates",
        query_string={"q": q},
        headers=HX,
    )
    return response


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-candidate-id="(\d+)"', html)]


def _other_panel(world, name="第二考场"):
    other = Panel(
        exam_id=world.exam.id,
        name=name,
        interview_room="ir-e1-cccc",
        rest_room="ir-e1-dddd",
        rest_room_code="888888",
    )
    db.session.add(other)
    db.session.flush()
    stranger = Candidate(
        exam_id=world.exam.id,
        panel_id=other.id,
        name="张三三",
        id_number="110105199001011111",
        phone="13900000000",
        position="综合管理岗",
        code="300000",
        lot_number=1,
    )
    db.session.add(stranger)
    db.session.commit()
    return other, stranger


def test_found_by_lot_name_and_id_tail(world, assistant):
    zhang, zhang_feng, li, wang = world.candidates
    # A lot number: that candidate first ("1" also is in no name).
    assert _ids(_find(assistant, world, "01").get_data(as_text=True)) == [zhang.id]
    assert _ids(_find(assistant, world, "2").get_data(as_text=True))[0] == zhang_feng.id
    # A name, or part of one, in lot order.
    assert _ids(_find(assistant, world, "张三").get_data(as_text=True)) == [zhang.id, zhang_feng.id]
    assert _ids(_find(assistant, world, "李").get_data(as_text=True)) == [li.id]
    # The ID number's tail (the four characters the console shows), an X in either case.
    assert _ids(_find(assistant, world, "5678").get_data(as_text=True)) == [zhang_feng.id]
    assert _ids(_find(assistant, world, "902x").get_data(as_text=True)) == [li.id]
    assert _ids(_find(assistant, world, "0007").get_data(as_text=True)) == [wang.id]
    # Nothing typed, nothing listed; no match says so.
    assert _ids(_find(assistant, world, "").get_data(as_text=True)) == []
    none = _find(assistant, world, "赵六").get_data(as_text=True)
    assert _ids(none) == [] and "本考场没有匹配的考生" in none
    # A % or _ is a letter, not a wildcard.
    assert _ids(_find(assistant, world, "%").get_data(as_text=True)) == []


def test_an_option_shows_what_the_console_shows_and_no_more(world, assistant):
    zhang = world.candidates[0]
    html = _find(assistant, world, "张三").get_data(as_text=True)
    assert zhang.masked_id_number in html and "110105********1234" in html
    assert zhang.id_number not in html and zhang.phone not in html
    assert "1380013" not in html
    # A longer tail would tell digits the console hides: it matches nobody.
    assert _ids(_find(assistant, world, "011234").get_data(as_text=True)) == []
    assert _ids(_find(assistant, world, zhang.id_number).get_data(as_text=True)) == []


def test_only_the_panels_candidates_and_only_for_its_assistants(app, world, assistant):
    other, stranger = _other_panel(world)
    found = _ids(_find(assistant, world, "张三").get_data(as_text=True))
    assert stranger.id not in found and len(found) == 2
    # Not my panel: 403, as for the console itself.
    assert _find(assistant, world, "张三", panel_id=other.id).status_code == 403
    # Someone else's assistant cannot search mine.
    outsider = gen_user("assistant-b", role=Role.ASSISTANT)
    db.session.add(PanelMember(panel_id=other.id, user_id=outsider.id, role="assistant"))
    db.session.commit()
    theirs = signed_in_staff(app, "assistant-b")
    assert _find(theirs, world, "张三").status_code == 403
    assert _ids(_find(theirs, world, "张三", panel_id=other.id).get_data(as_text=True)) == [
        stranger.id
    ]


def test_at_most_twenty_and_the_console_no_longer_grows_with_the_exam(app, world, assistant):
    def console_size():
        return len(assistant.get(f"/assistant/panels/{world.panel.id}").get_data())

    before = console_size()
    for i in range(60):
        db.session.add(
            Candidate(
                exam_id=world.exam.id,
                panel_id=world.panel.id,
                name=f"周{i:02d}",
                id_number=f"1101051991010{i:04d}9",
                phone=f"1370000{i:04d}",
                position="综合管理岗",
                code=f"{400000 + i}",
                lot_number=10 + i,
            )
        )
    db.session.commit()
    html = _find(assistant, world, "周").get_data(as_text=True)
    assert len(_ids(html)) == 20 and "请继续输入" in html
    # 60 more candidates who are in no queue: the console hardly changes (a version number in an
    # ETag), where the old dropdown grew by some 90 bytes a candidate.
    assert abs(console_size() - before) < 100
    assert "周05" not in assistant.get(f"/assistant/panels/{world.panel.id}").get_data(as_text=True)


def _post(client, world, data, htmx=True):
    page = client.get(f"/assistant/panels/{world.panel.id}").get_data(as_text=True)
    headers = {"X-CSRFToken": csrf_token_from(page), **(HX if htmx else {})}
    return client.post(f"/assistant/panels/{world.panel.id}/violations", data=data, headers=headers)


def _violations() -> list[tuple[int, str]]:
    return [
        tuple(row) for row in db.session.execute(select(Violation.candidate_id, Violation.kind))
    ]


def test_the_chosen_id_is_posted(world, assistant):
    li = world.candidates[2]
    answer = _post(
        assistant, world, {"candidate_id": li.id, "candidate": "03 · 李四", "kind": "切屏"}
    )
    assert answer.status_code == 200 and "已记录 李四：切屏。" in answer.get_data(as_text=True)
    assert _violations() == [(li.id, "切屏")]


@pytest.mark.parametrize("htmx", [True, False])
def test_without_javascript_a_typed_lot_number_or_a_single_match_names_the_candidate(
    world, assistant, htmx
):
    zhang, _, li, _ = world.candidates
    answer = _post(assistant, world, {"candidate": "1", "kind": "人像离屏"}, htmx=htmx)
    assert answer.status_code == (200 if htmx else 302)
    answer = _post(assistant, world, {"candidate": "李四", "kind": "其他", "note": "x"}, htmx=htmx)
    assert answer.status_code == (200 if htmx else 302)
    assert _violations() == [(zhang.id, "人像离屏"), (li.id, "其他")]


@pytest.mark.parametrize(
    "form, message",
    [
        ({"candidate": "张三", "kind": "切屏"}, "有多名考生与“张三”匹配，请输入签号。"),
        ({"candidate": "赵六", "kind": "切屏"}, "本考场没有与“赵六”匹配的考生。"),
        ({"candidate": "99", "kind": "切屏"}, "本考场没有与“99”匹配的考生。"),
        ({"candidate_id": "999999", "kind": "切屏"}, "本考场没有该考生。"),
        ({"candidate_id": "abc", "kind": "切屏"}, "本考场没有该考生。"),
        ({"kind": "切屏"}, "请选择考生。"),
    ],
)
def test_bad_input_is_refused_and_records_nothing(world, assistant, form, message):
    answer = _post(assistant, world, form)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert _violations() == []


def test_someone_of_another_panel_is_refused_like_no_one(world, assistant):
    _, stranger = _other_panel(world)
    answer = _post(assistant, world, {"candidate_id": stranger.id, "kind": "切屏"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "本考场没有该考生。" in html and "张三三" not in html
    assert db.session.scalar(select(func.count(Violation.id))) == 0


def test_the_form_keeps_the_chosen_candidate_after_a_refusal_and_speaks_english(
    app, world, assistant
):
    li = world.candidates[2]
    html = _post(assistant, world, {"candidate_id": li.id, "kind": "其他"}).get_data(as_text=True)
    assert "选择“其他”时请填写说明。" in html
    assert f'name="candidate_id" value="{li.id}"' in html and 'value="03 · 李四"' in html
    world.assistant.language = "en"
    db.session.commit()
    english = _find(assistant, world, "赵六").get_data(as_text=True)
    assert "No candidate of this panel matches." in english
    form = _post(assistant, world, {"candidate": "赵六", "kind": "切屏"}).get_data(as_text=True)
    assert "No candidate of this panel matches “赵六”." in form and "Flag a violation" in form
    console = assistant.get(f"/assistant/panels/{world.panel.id}").get_data(as_text=True)
    assert "Debug queue" in console and "Rest-room call" in console and "调试队列" not in console
