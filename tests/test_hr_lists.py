"""HR's long lists at exam-day scale: candidates, codes, slips and results are paged on the
server (100 rows a page, slips too), searched and filtered there, and cost the same
number of SQL statements at any size (issue 20, item 3)."""

import csv
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app import db
from app.listing import PAGE_SIZE, SLIPS_PAGE_SIZE
from app.models import Candidate, CandidateResult, Exam, Role
from app.timeutil import utcnow
from bench.seed import seed_exam
from tests.conftest import signed_in_staff
from tests.factories import gen_user

PAGES = {
    "candidates": "/hr/exams/{exam}/candidates",
    "codes": "/hr/exams/{exam}/codes",
    "slips": "/hr/exams/{exam}/slips",
    "results": "/hr/exams/{exam}/results",
}
ROW = re.compile(r'data-candidate="(\d+)"')


@pytest.fixture
def hr(app):
    gen_user("hr1", role=Role.HR)
    return signed_in_staff(app, "hr1")


@pytest.fixture
def big(app):
    """One exam of 250 candidates over 10 panels (bench/seed.py's shape): three pages."""
    exam = seed_exam("big", 250, utcnow())
    db.session.commit()
    return exam


def rows(html: str) -> list[int]:
    return [int(i) for i in ROW.findall(html)]


def statements_of(client, url: str, headers=None) -> tuple[int, str]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url, headers=headers or {})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements), response.get_data(as_text=True)


@pytest.mark.parametrize("name", [*PAGES, "candidates_poll"])
def test_each_list_costs_the_same_statements_for_12_and_250_candidates(app, hr, name):
    small = seed_exam("small", 12, utcnow())
    large = seed_exam("large", 250, utcnow())
    db.session.commit()
    path = PAGES["candidates" if name == "candidates_poll" else name]
    headers = {"HX-Request": "true"} if name == "candidates_poll" else None
    hr.get(path.format(exam=small.exam_id))  # first-request work out of the way
    few, _ = statements_of(hr, path.format(exam=small.exam_id), headers)
    many, html = statements_of(hr, path.format(exam=large.exam_id), headers)
    assert many == few
    # Filtered and searched pages too: one COUNT and one page of rows, whatever matches.
    filtered, _ = statements_of(hr, path.format(exam=large.exam_id) + "?q=考生01&page=2", headers)
    assert filtered == few
    if name == "slips":
        assert html.count('class="card slip"') == min(250, SLIPS_PAGE_SIZE)
    else:
        assert len(rows(html)) == PAGE_SIZE


@pytest.mark.parametrize("name", list(PAGES))
def test_pages_hold_every_row_once_in_a_stable_order(hr, big, name):
    url = PAGES[name].format(exam=big.exam_id)
    size = SLIPS_PAGE_SIZE if name == "slips" else PAGE_SIZE
    seen: list[int] = []
    pages = -(-250 // size)
    for number in range(1, pages + 1):
        html = hr.get(f"{url}?page={number}").get_data(as_text=True)
        shown = rows(html)
        assert len(shown) == min(size, 250 - (number - 1) * size)
        seen += shown
        assert "250" in html  # the total is on every page
    ids = set(db.session.scalars(sa.select(Candidate.id).where(Candidate.exam_id == big.exam_id)))
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("raw", ["0", "-1", "x", "9999", "", "1.5", "99999999999999999999"])
def test_a_bad_page_number_is_clamped_not_an_error(hr, big, name, raw):
    url = PAGES[name].format(exam=big.exam_id)
    response = hr.get(f"{url}?page={raw}")
    assert response.status_code == 200
    size = SLIPS_PAGE_SIZE if name == "slips" else PAGE_SIZE
    first = rows(hr.get(url).get_data(as_text=True))
    last = rows(hr.get(f"{url}?page={-(-250 // size)}").get_data(as_text=True))
    assert rows(response.get_data(as_text=True)) == (last if raw.startswith("9") else first)


def _shown(hr, url: str) -> set[str]:
    html = hr.get(url).get_data(as_text=True)
    ids = rows(html)
    return set(db.session.scalars(sa.select(Candidate.name).where(Candidate.id.in_(ids))))


@pytest.mark.parametrize("name", list(PAGES))
def test_search_finds_by_name_id_number_phone_code_and_lot(hr, big, name):
    url = PAGES[name].format(exam=big.exam_id)
    target = db.session.scalars(
        sa.select(Candidate)
        .where(Candidate.exam_id == big.exam_id, Candidate.lot_number.is_not(None))
        .order_by(Candidate.id.desc())
    ).first()
    for text in (target.name, target.id_number, target.phone[-8:], target.code):
        assert target.name in _shown(hr, f"{url}?q={text}"), text
    # A lot number finds that lot in every panel; with the panel filter, the one candidate.
    found = _shown(hr, f"{url}?q={target.lot_number}&panel={target.panel_id}")
    assert target.name in found
    assert _shown(hr, f"{url}?q=%25") == set()  # LIKE's wildcards are plain characters
    for odd in ("²", "١٢", "１", "0" * 50, "\\", "_"):
        assert hr.get(f"{url}?q={odd}&panel={odd}&state={odd}&page={odd}").status_code == 200
    assert _shown(hr, f"{url}?q=没有这个人") == set()


@pytest.mark.parametrize("name", ["candidates", "codes", "results"])
def test_state_and_panel_filters_combine_with_paging_and_search(hr, big, name):
    url = PAGES[name].format(exam=big.exam_id)
    panel = big.panel_ids[2]  # even rows: waiting or confirmed
    expected = set(
        db.session.scalars(
            sa.select(Candidate.id).where(
                Candidate.exam_id == big.exam_id,
                Candidate.panel_id == panel,
                Candidate.state == "waiting",
            )
        )
    )
    html = hr.get(f"{url}?state=waiting&panel={panel}").get_data(as_text=True)
    assert set(rows(html)) == expected and expected
    # Page links keep the filters.
    everyone = hr.get(f"{url}?state=waiting").get_data(as_text=True)
    assert re.search(r'href="[^"]*\?state=waiting&amp;page=2"', everyone), name


def test_slips_print_per_panel_and_say_what_is_printed(hr, big):
    url = PAGES["slips"].format(exam=big.exam_id)
    panel = big.panel_ids[0]
    html = hr.get(f"{url}?panel={panel}").get_data(as_text=True)
    assert html.count('class="card slip"') == 25
    assert "第1考场" in html and "25" in html
    whole = hr.get(url).get_data(as_text=True)
    assert f"1–{SLIPS_PAGE_SIZE}" in whole and "250" in whole
    # The downloads still hold every slip of the exam.
    data = hr.get(url + ".csv").get_data(as_text=True).lstrip("\ufeff")
    assert len(list(csv.reader(io.StringIO(data)))) == 1 + 250


def test_results_page_is_paged_but_the_exports_hold_every_row(hr, big):
    base = f"/hr/exams/{big.exam_id}/results"
    assert len(rows(hr.get(base).get_data(as_text=True))) == PAGE_SIZE
    data = hr.get(base + ".csv").get_data(as_text=True).lstrip("\ufeff")
    assert len(list(csv.reader(io.StringIO(data)))) == 251
    xlsx = hr.get(base + ".xlsx")
    assert xlsx.status_code == 200


def test_live_list_etag_covers_page_and_filters(hr, big):
    url = PAGES["candidates"].format(exam=big.exam_id)

    def etag(query: str) -> str:
        response = hr.get(url + query, headers={"HX-Request": "true"})
        return response.headers["ETag"]

    tags = {etag(q) for q in ("", "?page=2", "?page=3", "?state=waiting", "?q=考生", "?panel=none")}
    assert len(tags) == 6
    second = etag("?page=2").strip('"')
    unchanged = hr.get(
        url + "?page=2", headers={"HX-Request": "true", "If-None-Match": f'"{second}"'}
    )
    assert unchanged.status_code == 304
    moved = hr.get(url + "?page=3", headers={"HX-Request": "true", "If-None-Match": f'"{second}"'})
    assert moved.status_code == 200
    # The poll keeps the page it shows.
    html = hr.get(url + "?state=waiting&page=2").get_data(as_text=True)
    assert f'hx-get="{url}?state=waiting&amp;page=2"' in html


@pytest.mark.parametrize("tie_rule", ["tied", "first_dimension"])
def test_a_results_page_ranks_as_the_files_do(hr, big, tie_rule):
    """Ranks are per 岗位 over the whole exam: page 2, or a search, shows the rank the CSV
    gives, not one within the page."""
    exam = db.session.get(Exam, big.exam_id)
    exam.tie_rule = tie_rule
    scored = db.session.scalars(
        sa.select(Candidate).where(Candidate.exam_id == exam.id).order_by(Candidate.id)
    ).all()
    for i, candidate in enumerate(scored[::2]):
        db.session.add(
            CandidateResult(
                candidate_id=candidate.id,
                final_score=Decimal(60 + i % 37),
                published_at=utcnow() if i % 3 else None,
            )
        )
    db.session.commit()
    base = f"/hr/exams/{exam.id}/results"
    data = hr.get(base + ".csv").get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.DictReader(io.StringIO(data)))
    assert len(table) == 250
    in_file = {r["姓名 name"]: r["岗位排名 rank"] for r in table}
    for query in ("?page=2", "?page=3", f"?q={scored[100].name}", "?state=waiting&page=2"):
        html = hr.get(base + query).get_data(as_text=True)
        page_ranks = dict(
            re.findall(
                r'data-candidate="\d+">\s*<td>[^<]*</td>\s*<td>([^<]+)</td>'
                r"(?:(?!</tr>).)*?</strong>(?:(?!</tr>).)*?</td>\s*<td>([^<]+)</td>",
                html,
                re.S,
            )
        )
        assert page_ranks and any(rank.isdigit() for rank in page_ranks.values()), query
        for name, rank in page_ranks.items():
            assert (in_file[name] or "—") == rank, (query, name)
    # Confirmed and published count the whole exam, not the page.
    page = hr.get(base + "?page=3").get_data(as_text=True)
    published = sum(1 for i in range(125) if i % 3)
    assert f"已确认 125 · 已公布 {published} · 待公布 {125 - published}" in page


def test_a_new_code_brings_hr_back_to_the_page_and_filters_she_was_on(hr, big):
    url = PAGES["codes"].format(exam=big.exam_id)
    html = hr.get(f"{url}?state=waiting&q=考生&page=2").get_data(as_text=True)
    action = re.search(r'action="([^"]+/code\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "state=waiting" in action and "page=2" in action
    page = hr.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = hr.post(action, data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{url}?state=waiting&q=%E8%80%83%E7%94%9F&page=2"
