"""辅机位 as the staff pages see it (issue 16): the phone's own token, "connected" only from a
staff page's sighting of the phone in the call plus the phone's own camera report, the
assistant's check (辅机位已核验) that opens the waiting room, and the dropout alert on the
examiners' and the assistant's consoles and in the timeline."""

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app import db
from app.day import second_camera
from app.day.overview import KIND_LABELS, timeline
from app.jitsi.embed import phone_display_name
from app.journey import Actor, Refused, perform, second_camera_connected
from app.models import AuditEvent, Candidate
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.conftest import at_once, csrf_token_from
from tests.factories import World
from tests.jitsi_rules import verify
from tests.jitsi_world import (  # noqa: F401 - fixtures
    RULES,
    hosted,
    hosted_config,
    report,
    staff_client,
    the_embed,
)

UNVERIFIED = "辅机位尚未经面试助理核验"


def fresh(candidate) -> Candidate:
    db.session.expire_all()
    return db.session.get(Candidate, candidate.id)


def kinds(candidate) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.kind)
            .where(AuditEvent.candidate_id == candidate.id, AuditEvent.kind.like("second_camera.%"))
            .order_by(AuditEvent.id)
        )
    )


class Phone:
    """The candidate's phone: a browser of its own, holding nothing but the bind code."""

    def __init__(self, app, candidate):
        self.client = app.test_client()
        self.code = second_camera.ensure_bind_code(candidate)
        page = self.client.get(f"/calls/phone/{self.code}")
        assert page.status_code == 200
        self.html = page.get_data(as_text=True)
        self.token = csrf_token_from(self.html)

    def ping(self, camera=None):
        return self.client.post(
            f"/calls/phone/{self.code}/ping",
            data={"camera": camera} if camera else {},
            headers={"X-CSRFToken": self.token, "HX-Request": "true"},
        )


def sighting(staff, event, room, pid, name=None):
    """A staff page in `room` reports what its IFrame API said about another participant."""
    client, token = staff
    detail = {"id": pid} if name is None else {"id": pid, "displayName": name}
    return report(client, token, event=event, kind="interview", room=room, **detail)


def in_debug_call(world: World, c: Candidate) -> str:
    """Confirmed, notices read, in the assistant's debug call: the call's room."""
    me, assistant = world.as_candidate(c), Actor.staff(world.assistant)
    perform(c.id, "confirm", me)
    if hasattr(world, "notice"):
        world.read_notices(c)
    perform(c.id, "enter_debug", me)
    perform(c.id, "call_debug", assistant)
    perform(c.id, "accept_debug", me)
    perform(c.id, "check_identity", assistant)
    from app.journey import current_call

    call = current_call(fresh(c))
    assert call is not None
    return call.room


def test_the_phone_name_is_one_function_and_its_token_a_members(hosted):
    world = World.for_calls(requires_second_camera=True)
    c = world.interviewing(lot=7)
    assert phone_display_name(c) == "考生 07 辅机位"
    phone = Phone(hosted, c)
    attrs = the_embed(phone.html)
    assert attrs["data-jitsi-name"] == phone_display_name(c)
    now = int(datetime.now(UTC).timestamp())
    claims = verify(attrs["data-jitsi-jwt"], RULES, room=world.panel.interview_room, now=now)
    user = claims["context"]["user"]
    assert user["id"] == f"c{c.id}-2" and user["moderator"] == "false"
    assert user["affiliation"] == "member" and claims["context"]["features"]["recording"] == "false"
    # Its own token: not the candidate's identity, and it ends with the call (8 min + margin).
    assert claims["exp"] - claims["iat"] <= (8 + 10) * 60


def test_a_wrong_secret_is_refused_everywhere(hosted):
    world = World.for_calls(requires_second_camera=True)
    c = world.interviewing(lot=7)
    phone = Phone(hosted, c)
    wrong = ("ZZZZ" if not phone.code.startswith("ZZZZ") else "YYYY") + phone.code[4:]
    forged = second_camera.phone_token(phone.code)[:-3] + "abc"
    for key in (wrong, forged):
        assert phone.client.get(f"/calls/phone/{key}").status_code == 404
        ping = phone.client.post(
            f"/calls/phone/{key}/ping",
            data={"camera": "on"},
            headers={"X-CSRFToken": phone.token, "HX-Request": "true"},
        )
        assert ping.status_code == 404
    assert second_camera.phone_state(c.id) == {}


def test_the_ping_alone_never_makes_the_phone_connected(hosted):
    world = World.for_calls(requires_second_camera=True)
    c = world.interviewing(lot=7)
    phone = Phone(hosted, c)
    for _ in range(3):
        answer = phone.ping("on")
        assert answer.status_code == 200
        assert "辅机位已连接" not in answer.get_data(as_text=True)
    assert not second_camera_connected(fresh(c), datetime.now(UTC))
    assert "second_camera.connected" not in kinds(c)
    # A staff page seeing someone else, or the phone's name in another panel's room, is no
    # sighting either; a staff member of another panel may not report there at all.
    room = world.panel.interview_room
    chief = staff_client(hosted, "chief")
    assert sighting(chief, "participantJoined", room, "aa11", "考生 08 辅机位").status_code == 204
    outsider = staff_client(hosted, "outsider")
    assert (
        sighting(outsider, "participantJoined", room, "bb22", phone_display_name(c)).status_code
        == 403
    )
    phone.ping("on")
    assert not second_camera_connected(fresh(c), datetime.now(UTC))
    # The chief's page sees it join: now the phone's report counts.
    assert (
        sighting(chief, "participantJoined", room, "cc33", phone_display_name(c)).status_code == 204
    )
    assert "辅机位已连接" in phone.ping("on").get_data(as_text=True)
    assert second_camera_connected(fresh(c), datetime.now(UTC))
    assert kinds(c) == ["second_camera.joined", "second_camera.connected"]
    # The phone says its camera went off: not connected at once.
    assert "摄像头未开启" in phone.ping("off").get_data(as_text=True)
    assert not second_camera_connected(fresh(c), datetime.now(UTC))
    assert kinds(c)[-1] == "second_camera.video_off"


def test_the_waiting_room_opens_only_after_the_assistant_checks_the_phone(hosted, client):
    world = World.for_calls(requires_second_camera=True)
    c = world.candidate(S.INVITED, lot=5)
    room = in_debug_call(world, c)
    assistant = staff_client(hosted, "assistant")
    client_, token = assistant
    # Before the phone is in the call: no check, and 调试完毕 is refused (she would be stuck).
    page = client_.get(f"/assistant/candidates/{c.id}/phone-check")
    assert page.status_code == 200 and "辅机位未在通话中" in page.get_data(as_text=True)
    refused = client_.post(
        f"/assistant/candidates/{c.id}/verify-phone",
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert refused.status_code == 409 and "辅机位不在本通话中" in refused.get_data(as_text=True)
    try:
        perform(c.id, "mark_debugged", Actor.staff(world.assistant))
        raise AssertionError("debugged without the phone check")
    except Refused as refusal:
        assert refusal.code == "second_camera_check_first"

    # The phone joins the debug call; the assistant's page sees it; the phone's camera is on.
    phone = Phone(hosted, fresh(c))
    assert the_embed(phone.html)["data-jitsi-room"] == room
    sighting(assistant, "participantJoined", room, "d1", phone_display_name(fresh(c)))
    phone.ping("on")
    check = client_.get(f"/assistant/candidates/{c.id}/phone-check").get_data(as_text=True)
    assert ">辅机位已核验<" in check
    done = client_.post(
        f"/assistant/candidates/{c.id}/verify-phone",
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert done.status_code == 200 and "辅机位已核验" in done.get_data(as_text=True)
    assert fresh(c).second_camera_verified_at is not None
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.kind == "journey.verify_second_camera")
    )
    assert event is not None and event.actor_id == world.assistant.id
    again = client_.post(
        f"/assistant/candidates/{c.id}/verify-phone",
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert again.status_code == 409 and "辅机位已核验，无需重复操作" in again.get_data(as_text=True)

    perform(c.id, "mark_debugged", Actor.staff(world.assistant))
    # The phone leaves with the debug call; entering the waiting room needs the check, not it.
    me = CandidateBrowser(client)
    me.enter_code(fresh(c).code)
    me.enter_code(fresh(c).code)
    assert fresh(c).state == S.WAITING


def test_an_unchecked_phone_keeps_the_candidate_out_with_a_chinese_message(app, client):
    world = World(requires_second_camera=True)
    c = world.candidates[0]
    me, assistant = world.as_candidate(c), Actor.staff(world.assistant)
    perform(c.id, "confirm", me, world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", me, world.now)
    perform(c.id, "call_debug", assistant, world.now)
    perform(c.id, "accept_debug", me, world.now)
    perform(c.id, "check_identity", assistant, world.now)
    # Debugged before issue 16's check existed (or the exam's rule turned on later).
    c = fresh(c)
    c.state = S.DEBUGGED
    db.session.commit()
    browser = CandidateBrowser(client)
    assert browser.enter_code(c.code).status_code == 303
    browser.enter_code(c.code)
    assert fresh(c).state == S.DEBUGGED
    assert UNVERIFIED in browser.html()


def test_two_assistants_checking_at_once_check_once(hosted):
    world = World.for_calls(requires_second_camera=True)
    c = world.candidate(S.INVITED, lot=5)
    room = in_debug_call(world, c)
    phone = Phone(hosted, fresh(c))
    name = phone_display_name(fresh(c))
    sighting(staff_client(hosted, "assistant"), "participantJoined", room, "d1", name)
    phone.ping("on")
    assistant_id = world.assistant.id

    def check(_i):
        from app.models import User

        return perform(
            c.id, "verify_second_camera", Actor.staff(db.session.get(User, assistant_id))
        )

    results = at_once(hosted, 2, check)
    refusals = [r for r in results if isinstance(r, Refused)]
    assert len(refusals) == 1, results
    assert refusals[0].code in ("second_camera_already_verified", "changed_meanwhile")
    assert (
        db.session.scalar(
            select(db.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.kind == "journey.verify_second_camera")
        )
        == 1
    )


def test_a_phone_that_drops_out_is_an_alert_until_it_returns(hosted):
    world = World.for_calls(requires_second_camera=True)
    c = world.interviewing(lot=7)
    room = world.panel.interview_room
    chief, assistant = staff_client(hosted, "chief"), staff_client(hosted, "assistant")
    report(chief[0], chief[1], room=room)  # the chief's own page is in the call
    examiner_url = f"/examiner/panels/{world.panel.id}/phone-alerts"
    assistant_url = f"/assistant/panels/{world.panel.id}/phone-alerts"
    phone = Phone(hosted, c)
    t0 = datetime.now(UTC)
    with time_machine.travel(t0, tick=False):
        sighting(chief, "participantJoined", room, "p1", phone_display_name(c))
        phone.ping("on")
        assert "辅机位已断开" not in chief[0].get(examiner_url).get_data(as_text=True)
        # The chief's page sees it leave (participantLeft carries the id only).
        assert sighting(chief, "participantLeft", room, "p1").status_code == 204
        assert not second_camera_connected(fresh(c), t0)
    with time_machine.travel(t0 + timedelta(seconds=130), tick=False):
        html = chief[0].get(examiner_url).get_data(as_text=True)
        assert "考生 07" in html and "辅机位已断开 <strong>2 分钟</strong>" in html
        assert "面试中" in html and c.name not in html  # examiners never see the name
        board = assistant[0].get(assistant_url).get_data(as_text=True)
        assert c.name in board and "辅机位已断开" in board
        # It comes back (a new participant id): the alert clears.
        sighting(chief, "participantJoined", room, "p2", phone_display_name(c))
        phone.ping("on")
        assert "辅机位已断开" not in chief[0].get(examiner_url).get_data(as_text=True)
    assert kinds(c) == [
        "second_camera.joined",
        "second_camera.connected",
        "second_camera.left",
        "second_camera.joined",
        "second_camera.connected",
    ]
    labels = [entry.label for entry in timeline(fresh(c)) if "辅机位" in entry.label]
    assert labels == [KIND_LABELS[k] for k in kinds(c)]
    assert all(not label.isascii() for label in labels)


def test_a_phone_that_goes_quiet_is_a_dropout_logged_once(hosted):
    world = World.for_calls(requires_second_camera=True)
    c = world.candidate(S.RESTING, lot=3)
    room = world.panel.rest_room
    assistant = staff_client(hosted, "assistant")
    report(assistant[0], assistant[1], room=room, kind="rest")
    phone = Phone(hosted, c)
    url = f"/assistant/panels/{world.panel.id}/phone-alerts"
    t0 = datetime.now(UTC)
    with time_machine.travel(t0, tick=False):
        sighting(assistant, "participantJoined", room, "r1", phone_display_name(c))
        phone.ping("on")
    # No participantLeft: the phone simply stops reporting (locked screen, dead battery).
    with time_machine.travel(t0 + timedelta(seconds=20), tick=False):
        assert "辅机位已断开" not in assistant[0].get(url).get_data(as_text=True)
    with time_machine.travel(t0 + timedelta(seconds=50), tick=False):
        html = assistant[0].get(url).get_data(as_text=True)
        assert "辅机位已断开" in html and "休息室" in html
        assistant[0].get(url)
    assert kinds(c).count("second_camera.silent") == 1
    assert KIND_LABELS["second_camera.silent"] == "辅机位已断开（长时间无响应）"


def test_no_staff_page_in_the_call_says_so(hosted):
    world = World.for_calls(requires_second_camera=True)
    c = world.candidate(S.RESTING, lot=3)
    assistant = staff_client(hosted, "assistant")
    t0 = datetime.now(UTC)
    with time_machine.travel(t0 + timedelta(seconds=30), tick=False):
        html = (
            assistant[0]
            .get(f"/assistant/panels/{world.panel.id}/phone-alerts")
            .get_data(as_text=True)
        )
    assert "辅机位已断开" in html and "通话中没有工作人员页面" in html
    assert c.name in html


def test_a_phone_on_its_way_into_the_next_call_is_not_an_alert(hosted):
    world = World.for_calls(requires_second_camera=True)
    t0 = datetime.now(UTC)
    # Seen last in the debug call long ago; she has just entered the rest room.
    c = world.candidate(
        S.RESTING,
        lot=3,
        second_camera_seen_at=t0 - timedelta(minutes=40),
        second_camera_verified_at=t0 - timedelta(minutes=40),
        state_changed_at=t0,
    )
    assistant = staff_client(hosted, "assistant")
    report(assistant[0], assistant[1], room=world.panel.rest_room, kind="rest")
    url = f"/assistant/panels/{world.panel.id}/phone-alerts"
    with time_machine.travel(t0 + timedelta(seconds=10), tick=False):
        assert "辅机位已断开" not in assistant[0].get(url).get_data(as_text=True)
    with time_machine.travel(t0 + timedelta(seconds=20), tick=False):
        html = assistant[0].get(url).get_data(as_text=True)
        assert "辅机位已断开" in html and "不足 1 分钟" in html
    assert kinds(c) == ["second_camera.silent"]
