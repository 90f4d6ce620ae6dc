"""Staff pages of a big exam (issue 20, item 3): the HR overview, a timeline and the assistant's
and examiner's consoles cost the same number of SQL statements at a small and a larger exam,
and show one page (or the front of a queue) of what grows with the exam.

The exams are bench/seed.py's (a bulk INSERT over 10 panels); each panel's candidates are then
spread over the states a console lists: waiting with a lot, in the debug queue, resting,
released. The consoles' caps are made small here so that a few hundred candidates exceed them.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app import db
from app.models import AuditEvent, Candidate, HelpRequest, Violation
from app.models.candidate import CandidateState as S
from app.timeutil import utcnow
from bench.seed import STAFF_PASSWORD, seed_exam
from tests.conftest import StaffActions

HX = {"HX-Request": "true"}
SPREAD = (S.WAITING, S.DEBUG_WAITING, S.RESTING, S.RELEASED)


def seeded(label: str, size: int, trail: int = 3):
    """A bench exam of `size`, spread over SPREAD within each panel; its first candidate has
    `trail` audit events (a timeline), every tenth a help request and a violation."""
    now = utcnow()
    exam = seed_exam(label, size, now)
    db.session.flush()
    for panel_id in exam.panel_ids:
        ids = db.session.scalars(
            sa.select(Candidate.id).where(Candidate.panel_id == panel_id).order_by(Candidate.id)
        ).all()
        for i, cid in enumerate(ids):
            state = SPREAD[i % len(SPREAD)]
            values: dict = {"state": state, "state_changed_at": now - timedelta(minutes=i % 7)}
            if state == S.WAITING:
                values["session_nonce"] = "signed-in"  # a page open: listed for spot checks
            if state == S.DEBUG_WAITING:
                values["lot_number"] = None
            if state in (S.RESTING, S.RELEASED):
                values["finished_at"] = now - timedelta(minutes=10)
            db.session.execute(sa.update(Candidate).where(Candidate.id == cid).values(**values))
    ids = db.session.scalars(
        sa.select(Candidate.id).where(Candidate.exam_id == exam.exam_id).order_by(Candidate.id)
    ).all()
    for cid in ids[::10]:
        db.session.add(HelpRequest(candidate_id=cid, message="求助"))
        db.session.add(Violation(candidate_id=cid, kind="切屏", note=""))
    db.session.add_all(
        AuditEvent(
            kind="candidate.login",
            actor_type="candidate",
            actor_id=ids[0],
            candidate_id=ids[0],
            exam_id=exam.exam_id,
            data={"n": n},
        )
        for n in range(trail)
    )
    db.session.commit()
    return exam, ids


def login(app, username):
    client = app.test_client()
    assert StaffActions(client).login(username, STAFF_PASSWORD).status_code == 302
    return client


def statements(client, url, headers=None):
    sent = []

    def count(conn, cursor, statement, *args):
        sent.append(statement)

    client.get(url, headers=headers or {})  # first-request and time-rule work out of the way
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url, headers=headers or {})
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, (url, response.status_code)
    return len(sent), response


def pages_of(exam, first_id):
    eid, pid = exam.exam_id, exam.panel_ids[0]
    return {
        "overview": ("hr", f"/hr/exams/{eid}/overview", None),
        "overview poll": ("hr", f"/hr/exams/{eid}/overview", HX),
        "overview searched page 2": ("hr", f"/hr/exams/{eid}/overview?q=考生&page=2", None),
        "timeline": ("hr", f"/hr/exams/{eid}/candidates/{first_id}/timeline", None),
        "assistant console": ("assistant", f"/assistant/panels/{pid}", None),
        "assistant board": ("assistant", f"/assistant/panels/{pid}/board", HX),
        "spot checks": ("assistant", f"/assistant/panels/{pid}/spot-checks", HX),
        "examiner console": ("chief", f"/examiner/panels/{pid}", None),
        "examiner room": ("chief", f"/examiner/panels/{pid}/room", HX),
    }


@pytest.fixture
def small_caps(monkeypatch):
    monkeypatch.setattr("app.day.overview.PAGE_SIZE", 20)
    monkeypatch.setattr("app.routes.hr.overview.TIMELINE_PAGE_SIZE", 10)
    monkeypatch.setattr("app.routes.assistant.console.DEBUG_WAITING_SHOWN", 3)
    monkeypatch.setattr("app.routes.assistant.console.RESTING_SHOWN", 3)
    monkeypatch.setattr("app.routes.assistant.waiting_room.ROWS_SHOWN", 3)
    monkeypatch.setattr("app.routes.examiner.console.QUEUE_SHOWN", 3)
    monkeypatch.setattr("app.routes.examiner.console.DONE_SHOWN", 3)


def test_staff_pages_cost_the_same_statements_at_40_and_400_candidates(app, small_caps):
    from bench.seed import _staff

    hr = _staff("hr-scale", "hr")
    db.session.commit()
    small, small_ids = seeded("s", 40)
    large, large_ids = seeded("l", 400, trail=60)
    counts = {}
    for label, (exam, ids) in {"small": (small, small_ids), "large": (large, large_ids)}.items():
        who = {
            "hr": login(app, hr.username),
            "assistant": login(app, exam.assistant),
            "chief": login(app, exam.chief),
        }
        for name, (role, url, headers) in pages_of(exam, ids[0]).items():
            counts.setdefault(name, {})[label], response = statements(who[role], url, headers)
            html = response.get_data(as_text=True)
            if label == "large" and name == "overview":
                assert html.count("时间线</a>") == 20  # one page of 400
                assert "1–20 / 共 400 人" in html
            if label == "large" and name == "timeline":
                assert html.count('<li class="kind-') == 10  # one page of 60 events
            if label == "large" and name == "assistant board":
                # the front of the debug queue (10 waiting): 3 buttons, each a form action and hx-post
                assert html.count("/call_debug") == 2 * 3
                assert "另有 7 人排在后面等待调试" in html
    assert {name: c["small"] for name, c in counts.items()} == {
        name: c["large"] for name, c in counts.items()
    }, counts


def table_rows(response) -> int:
    return response.get_data(as_text=True).count("时间线</a>")


@pytest.fixture
def paged(app):
    from bench.seed import _staff

    hr = _staff("hr-paged", "hr")
    db.session.commit()
    exam, ids = seeded("p", 250, trail=250)
    return exam, ids, login(app, hr.username)


def test_overview_pages_and_clamps_bad_page_numbers(paged):
    exam, _ids, hr = paged
    url = f"/hr/exams/{exam.exam_id}/overview"
    assert table_rows(hr.get(url)) == 100
    third = hr.get(url + "?page=3")
    assert table_rows(third) == 50 and "201–250" in third.get_data(as_text=True)
    for bad in ("99", "0", "-1", "abc", "1e9", "99999999999999999999"):
        response = hr.get(url + f"?page={bad}")
        assert response.status_code == 200, bad
    assert table_rows(hr.get(url + "?page=99")) == 50  # past the end: the last page
    assert table_rows(hr.get(url + "?page=abc")) == 100  # nonsense: the first
    page_two = hr.get(url + "?page=2").get_data(as_text=True)
    assert f"{url}?page=3" in page_two and f"{url}?page=1" in page_two  # next and previous


def test_overview_search_and_filters_combine_with_paging(paged):
    exam, ids, hr = paged
    url = f"/hr/exams/{exam.exam_id}/overview"
    one = db.session.get(Candidate, ids[123])
    for typed in (one.name, one.id_number, one.phone, one.code.lower()):
        html = hr.get(url, query_string={"q": typed}).get_data(as_text=True)
        table = html[html.index('<table class="table overview">') :]
        assert one.name in table, typed
        assert table.count("时间线</a>") < 10, typed
    with_lot = db.session.scalars(
        sa.select(Candidate).where(
            Candidate.exam_id == exam.exam_id, Candidate.lot_number.is_not(None)
        )
    ).first()
    html = hr.get(url, query_string={"q": str(with_lot.lot_number)}).get_data(as_text=True)
    assert with_lot.name in html
    # A quarter of each panel waits: one page, searched and filtered at once.
    waiting = db.session.scalar(
        sa.select(sa.func.count(Candidate.id)).where(
            Candidate.exam_id == exam.exam_id, Candidate.state == S.WAITING
        )
    )
    response = hr.get(url, query_string={"state": "waiting", "q": "考生"})
    assert table_rows(response) == waiting < 100
    everyone = hr.get(url, query_string={"q": "考生", "page": 3})
    assert table_rows(everyone) == 50
    links = everyone.get_data(as_text=True)
    assert "q=%E8%80%83%E7%94%9F" in links  # the paging links keep the search
    attention = hr.get(url, query_string={"attention": 1})
    assert table_rows(attention) == 25  # every tenth has a help request and a violation
    assert table_rows(hr.get(url, query_string={"q": "%"})) == 0  # a letter, not a wildcard


def test_overview_etag_covers_page_search_and_changes(paged):
    exam, ids, hr = paged
    url = f"/hr/exams/{exam.exam_id}/overview"
    first = hr.get(url + "?page=1", headers=HX)
    etag = first.headers["ETag"]
    assert hr.get(url + "?page=1", headers={**HX, "If-None-Match": etag}).status_code == 304
    assert hr.get(url + "?page=2", headers={**HX, "If-None-Match": etag}).status_code == 200
    assert hr.get(url + "?q=考生", headers={**HX, "If-None-Match": etag}).status_code == 200
    # The poll URL of a page is that page (so the poll keeps it).
    assert "page=2" in hr.get(url + "?page=2", headers=HX).get_data(as_text=True)
    # A change on page 3 is a new version of page 1 too (its counts are the whole exam's).
    db.session.execute(
        sa.update(Candidate)
        .where(Candidate.id == ids[-1])
        .values(version=Candidate.version + 1, missed_calls=1)
    )
    db.session.commit()
    changed = hr.get(url + "?page=1", headers={**HX, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_timeline_pages_with_the_csv_for_all(paged):
    exam, ids, hr = paged
    url = f"/hr/exams/{exam.exam_id}/candidates/{ids[0]}/timeline"
    html = hr.get(url).get_data(as_text=True)
    assert html.count('<li class="kind-') == 200 and "?format=csv" in html
    assert hr.get(url + "?page=2").get_data(as_text=True).count('<li class="kind-') == 50
    assert hr.get(url + "?page=9").get_data(as_text=True).count('<li class="kind-') == 50
    assert hr.get(url + "?page=x").status_code == 200
    csv = hr.get(url + "?format=csv").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 1 + 250
