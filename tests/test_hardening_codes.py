"""Issue 14, findings 1-3: code budgets an attacker cannot turn against real candidates, a phone
page keyed to a secret that cannot be enumerated, and codes that never resolve to two
candidates of different exams."""

import itertools
import re
from datetime import timedelta

from sqlalchemy import select

from app import db
from app.day import second_camera
from app.day.session import find_candidate_by_code
from app.models import AuditEvent, Candidate, Exam
from app.models.candidate import CandidateState as S
from app.setup import codes as code_setup
from app.timeutil import utcnow
from tests.candidate_client import CandidateBrowser
from tests.factories import World, gen_exam, id_number

# --- finding 1: the code page's budgets -----------------------------------------------------------


def _candidate(world: World, state: S, lot: int) -> Candidate:
    c = Candidate(
        exam_id=world.exam.id,
        panel_id=world.panel.id,
        name=f"考生{lot}",
        id_number=id_number(lot),
        phone="13800138000",
        position="综合管理岗",
        code=f"{100000 + lot}",
        state=state,
        lot_number=lot,
    )
    db.session.add(c)
    db.session.commit()
    return c


def _flood(app, addresses: int, per_address: int) -> None:
    guess = itertools.count(900000)
    for a in range(addresses):
        attacker = CandidateBrowser(app.test_client(), f"203.0.113.{100 + a}")
        for _ in range(per_address):
            attacker.enter_code(f"{next(guess)}")


def _signed_in(app, candidate: Candidate, address: str) -> CandidateBrowser:
    browser = CandidateBrowser(app.test_client(), address)
    assert browser.enter_code(candidate.code).status_code == 303
    return browser


def test_a_flood_of_wrong_codes_locks_no_signed_in_candidate_out(app):
    app.config["CODE_FAILURES_GLOBAL"] = "20 per minute"
    world = World.for_calls()
    debugged = _candidate(world, S.DEBUGGED, 1)
    finished = _candidate(world, S.FINISHED, 2)
    waiting = _candidate(world, S.WAITING, 3)
    hers = _signed_in(app, debugged, "198.51.100.1")
    done = _signed_in(app, finished, "198.51.100.2")
    inside = _signed_in(app, waiting, "198.51.100.3")
    _flood(app, addresses=2, per_address=10)  # the site's budget is spent
    fresh = CandidateBrowser(app.test_client(), "198.51.100.99")
    assert fresh.enter_code("123123").status_code == 429  # guessing is still stopped
    # ...but nobody already signed in is refused, however often they come back.
    for _ in range(12):
        assert hers.enter_code(debugged.code).status_code == 303
        assert inside.enter_code(waiting.code).status_code == 303
    rest = done.enter_code(world.panel.rest_room_code)
    assert rest.status_code in (302, 303), rest.status_code
    db.session.expire_all()
    assert db.session.get(Candidate, finished.id).state == S.RESTING


def test_a_browser_that_signed_in_before_is_not_refused_its_own_code(app):
    """Taken over by a second browser, the first one comes back: it has proved it holds the code
    (a signed cookie only a sign-in with that code writes), so others' failures do not count."""
    app.config["CODE_FAILURES_GLOBAL"] = "20 per minute"
    world = World.for_calls()
    c = _candidate(world, S.WAITING, 4)
    first = _signed_in(app, c, "198.51.100.4")
    _signed_in(app, c, "198.51.100.5")  # takes the session over
    assert first.page().status_code in (302, 303)  # signed out: 已在别处登录
    _flood(app, addresses=2, per_address=10)
    assert first.enter_code(c.code).status_code == 303
    # the cookie proves only that code: another code from that browser is a guess as usual
    assert first.enter_code("100005").status_code == 429


def test_exempt_entries_are_never_counted(app):
    app.config["CODE_FAILURES_PER_ADDRESS"] = "3 per minute"
    world = World.for_calls()
    c = _candidate(world, S.WAITING, 5)
    browser = _signed_in(app, c, "198.51.100.6")
    for _ in range(5):  # the rest-room code too early: refused, but not a guess
        assert browser.enter_code(world.panel.rest_room_code).status_code == 400
    assert browser.enter_code(c.code).status_code == 303
    for _ in range(3):
        assert browser.enter_code("000000").status_code == 400  # a real guess counts
    assert browser.enter_code("000001").status_code == 429


# --- finding 2: the phone page -------------------------------------------------------------------


def _owner_panel(app, candidate) -> second_camera.PhonePanel:
    with app.test_request_context("/"):
        return second_camera.panel_for(candidate, utcnow(), owner=True)


def test_unknown_bind_codes_from_one_address_lock_no_other_phone_out(app):
    world = World.for_calls(requires_second_camera=True)
    c = _candidate(world, S.WAITING, 6)
    panel = _owner_panel(app, c)
    guesser = app.test_client()
    guess = {"REMOTE_ADDR": "203.0.113.66"}
    for i in range(30):
        g = "".join(second_camera.ALPHABET[(i + k) % 31] for k in range(second_camera.CODE_LENGTH))
        guesser.get(f"/calls/phone/{g}", environ_base=guess)
    # the guessing address is stopped, even with a real code...
    assert guesser.get(f"/calls/phone/{panel.code}", environ_base=guess).status_code == 429
    # ...every other phone is not: typed by hand elsewhere, or scanned
    typed = app.test_client().get(
        f"/calls/phone/{panel.code}", environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert typed.status_code == 200
    scanned = app.test_client().get(panel.url, environ_base=guess)  # even from that address
    assert scanned.status_code == 200


def test_the_qr_code_carries_a_token_that_cannot_be_enumerated(app):
    world = World.for_calls()
    c = _candidate(world, S.WAITING, 7)
    panel = _owner_panel(app, c)
    key = panel.url.rsplit("/calls/phone/", 1)[1]
    assert panel.code not in key and len(key) >= 32  # >= 128 bits, keyed by SECRET_KEY
    phone = app.test_client()
    html = phone.get(f"/calls/phone/{key}").get_data(as_text=True)
    assert f"/calls/phone/{key}/ping" in html and f"/calls/phone/{key}/call" in html
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert app.test_client().get(f"/calls/phone/{forged}").status_code == 404
    # a token is not a bind code: 30 forged tokens from one address spend only its budget
    for _ in range(30):
        app.test_client().get(f"/calls/phone/{forged}", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert app.test_client().get(f"/calls/phone/{panel.code}").status_code == 200
    assert phone.get(f"/calls/phone/{key}/call", headers={"HX-Request": "true"}).status_code in (
        200,
        204,
    )


# --- finding 3: codes of exams whose return periods overlap ---------------------------------------


def _exam(name: str, opens, closes) -> Exam:
    return gen_exam(name, login_opens_at=opens, login_closes_at=closes)


def _candidates(exam: Exam, codes: list[str], state: S) -> list[Candidate]:
    rows = [
        Candidate(
            exam_id=exam.id,
            name=f"{exam.name}考生{i}",
            id_number=f"{exam.id:02d}0105199001{i:06d}",
            phone="13800138000",
            position="综合管理岗",
            code=code,
            state=state,
        )
        for i, code in enumerate(codes)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_two_large_exams_never_share_a_code_across_the_return_period(app, monkeypatch):
    now = utcnow()
    morning = _exam("上午场", now - timedelta(hours=5), now - timedelta(hours=2))
    afternoon = _exam("下午场", now - timedelta(minutes=10), now + timedelta(hours=3))
    morning_codes = code_setup.allocate_codes(morning, 300)
    db.session.commit()
    inside = _candidates(morning, morning_codes, S.WAITING)  # back after a dropped connection
    # The worst draw: the afternoon's generator offers the morning's codes first.
    offered = iter([int(code) for code in morning_codes] + list(range(10**6)))
    monkeypatch.setattr(code_setup.secrets, "randbelow", lambda _n: next(offered))
    afternoon_codes = code_setup.allocate_codes(afternoon, 300)
    db.session.commit()
    assert not set(morning_codes) & set(afternoon_codes)
    newcomers = _candidates(afternoon, afternoon_codes, S.INVITED)
    everyone = inside + newcomers
    codes = db.session.scalars(select(Candidate.code)).all()
    assert len(codes) == len(set(codes)) == 600
    for c in everyone:
        found = find_candidate_by_code(c.code, now)
        assert found.candidate is not None and found.candidate.id == c.id, c.code
    # and through the page: a returning morning candidate is herself, not an afternoon one
    browser = CandidateBrowser(app.test_client(), "198.51.100.8")
    assert browser.enter_code(inside[0].code).status_code == 303
    login = db.session.scalars(
        select(AuditEvent).filter_by(kind="candidate.login").order_by(AuditEvent.id.desc())
    ).first()
    assert login.candidate_id == inside[0].id


def test_exams_whose_return_periods_overlap_are_checked_for_clashes(app):
    now = utcnow()
    earlier = _exam("上午场", now - timedelta(hours=5), now - timedelta(hours=2))
    later = _exam("下午场", now - timedelta(minutes=10), now + timedelta(hours=3))
    next_week = _exam("下周", now + timedelta(days=7), now + timedelta(days=7, hours=3))
    assert earlier.id in code_setup.overlapping_exam_ids(later)
    assert later.id in code_setup.overlapping_exam_ids(earlier)
    assert next_week.id not in code_setup.overlapping_exam_ids(later)
    _candidates(earlier, ["424242"], S.WAITING)
    _candidates(later, ["424242"], S.INVITED)  # legacy data, made before this fix
    assert code_setup.conflicting_codes(later) == {"424242"}
    # a code that could be two people signs in neither of them
    found = find_candidate_by_code("424242", now)
    assert found.candidate is None and found.message
    assert re.search("考务", found.message)


def test_a_typed_bind_code_works_only_while_its_exam_takes_sign_ins(app):
    """A candidate sees her bind code only when signed in: last week's codes are never typed,
    so they are not among the codes a guess can hit (the token still opens its page)."""
    now = utcnow()
    last_week = _exam("上周", now - timedelta(days=7), now - timedelta(days=7) + timedelta(hours=3))
    (old,) = _candidates(last_week, ["515151"], S.RELEASED)
    code = second_camera.ensure_bind_code(old)
    assert app.test_client().get(f"/calls/phone/{code}").status_code == 404
    with app.test_request_context("/"):
        url = second_camera.phone_url(code)
    assert app.test_client().get(url).status_code == 200


def test_odd_keys_on_the_phone_routes_are_404_not_500(app):
    for key in ["x" * 2000, "é" * 40, "a.b", "IjEyMyI.bad"]:
        assert app.test_client().get(f"/calls/phone/{key}").status_code in (404, 429), key
    # NUL never reaches the route: the input guard refuses it for every URL (400).
    assert app.test_client().get("/calls/phone/" + "%00" * 20).status_code == 400
