"""Nobody in a room who does not belong (issue 16): the interview room's roster, its extension
point, the chief's roster and removal routes (audited, in the timeline in words), and interview
tokens that expire at most MARGIN_SECONDS after the slot, judged with Jitsi's rules."""

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from app import db
from app.day import room_roster
from app.day.overview import KIND_LABELS, timeline
from app.jitsi.embed import MARGIN_SECONDS, embed_for_candidate
from app.models import AuditEvent, Role
from app.models.candidate import CandidateState as S
from app.timeutil import utcnow
from tests.conftest import csrf_token_from, signed_in_staff
from tests.factories import World, gen_candidate, gen_user
from tests.jitsi_rules import TokenRefused, verify
from tests.jitsi_world import RULES, hosted, hosted_config  # noqa: F401 - fixtures


@pytest.fixture
def world(app):
    return World.for_calls()


def _in(world, state, lot, **kw):
    return gen_candidate(
        world.exam, f"考生{lot}", panel=world.panel, state=state, lot_number=lot, **kw
    )


# --- the roster ----------------------------------------------------------------------------------


def test_the_roster_is_the_current_candidate_and_the_panels_staff(world):
    _in(world, S.FINISHED, 5, finished_at=utcnow())
    _in(world, S.INTERVIEWING, 6)
    _in(world, S.WAITING, 7)
    roster = room_roster.interview_roster(world.panel)
    assert roster.room == world.panel.interview_room
    assert roster.names == {"考生 06", "考生 06 辅机位", "主考官", "考官 2", "面试助理 李"}
    assert roster.allows("考生 06") and roster.allows("  考生   06 ")
    assert roster.allows("考生 06 辅机位")  # her phone, the second camera
    assert not roster.allows("考生 05 辅机位")
    assert not roster.allows("考生 05")  # finished: her token may still be valid
    assert not roster.allows("考生 07")  # waiting: not called yet
    assert not roster.allows("别组助理")  # another panel's assistant
    assert not roster.allows("") and not roster.allows(None)  # an unnamed participant
    assert not roster.allows("Fellow Jitster")
    # Which candidate a stray name is, for her timeline.
    assert set(roster.others) == {"考生 05", "考生 07"}


def test_a_called_candidate_is_on_it_and_an_idle_room_has_staff_only(world):
    idle = room_roster.interview_roster(world.panel)
    assert idle.names == {"主考官", "考官 2", "面试助理 李"}
    _in(world, S.INTERVIEW_CALLED, 8)
    assert room_roster.interview_roster(world.panel).allows("考生 08")


def test_the_extension_point_lets_in_prefixes_and_extra_names(world, monkeypatch):
    _in(world, S.INTERVIEWING, 6)
    monkeypatch.setattr(room_roster, "ALLOWED_PREFIXES", ["巡考 "])
    monkeypatch.setattr(
        room_roster,
        "EXTRA_NAMES",
        [lambda panel, current: [f"{current.display_name_for_examiners} 翻译"] if current else []],
    )
    roster = room_roster.interview_roster(world.panel)
    assert roster.allows("巡考 王老师") and roster.allows("考生 06 翻译")
    assert not roster.allows("巡考") and not roster.allows("考生 05 翻译")
    one_call = room_roster.interview_roster(
        world.panel, extra_names=["技术支持"], allowed_prefixes=["观察员 "]
    )
    assert one_call.allows("技术支持") and one_call.allows("观察员 甲")
    assert one_call.as_json()["prefixes"] == ["巡考 ", "观察员 "]
    # An empty prefix never lets everybody in.
    assert not room_roster.interview_roster(world.panel, allowed_prefixes=[""]).allows("谁")


# --- the chief's routes ---------------------------------------------------------------------------


def test_the_chief_gets_the_roster_as_json_and_nobody_else(app, world):
    _in(world, S.INTERVIEWING, 6)
    chief = signed_in_staff(app, "chief")
    response = chief.get(f"/examiner/panels/{world.panel.id}/room-guard/roster")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "room": world.panel.interview_room,
        "names": sorted(["考生 06", "考生 06 辅机位", "主考官", "考官 2", "面试助理 李"]),
        "prefixes": [],
    }
    examiner = signed_in_staff(app, "examiner2")
    assert examiner.get(f"/examiner/panels/{world.panel.id}/room-guard/roster").status_code == 403
    assistant = signed_in_staff(app, "assistant")
    assert assistant.get(f"/examiner/panels/{world.panel.id}/room-guard/roster").status_code == 403
    # The guard is on the chief's console only.
    assert "data-room-guard" in chief.get(f"/examiner/panels/{world.panel.id}").text
    assert "data-room-guard" not in examiner.get(f"/examiner/panels/{world.panel.id}").text


def _post_removed(client, panel_id, body):
    token = csrf_token_from(client.get(f"/examiner/panels/{panel_id}").text)
    return client.post(
        f"/examiner/panels/{panel_id}/room-guard/removed",
        json=body,
        headers={"X-CSRFToken": token},
    )


def test_a_removal_is_audited_in_the_finished_candidates_timeline_in_words(app, world):
    finished = _in(world, S.FINISHED, 5, finished_at=utcnow())
    _in(world, S.INTERVIEWING, 6)
    chief = signed_in_staff(app, "chief")
    answer = _post_removed(
        chief, world.panel.id, {"participant_id": "ab12", "display_name": "考生 05"}
    )
    assert answer.status_code == 204
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "call.participant_removed")
    ).one()
    assert event.candidate_id == finished.id and event.actor_id == world.chief.id
    assert event.exam_id == world.exam.id
    assert event.data["display_name"] == "考生 05" and event.data["participant"] == "ab12"
    assert event.data["room"] == world.panel.interview_room
    assert event.data["reason"] == "不在本场当前名单" and event.data["on_roster_now"] is False
    entry = next(e for e in timeline(finished) if e.event.kind == "call.participant_removed")
    assert entry.label == KIND_LABELS["call.participant_removed"] and "移出" in entry.label


def test_an_unknown_removal_is_audited_for_the_exam_and_bad_bodies_are_refused(app, world):
    chief = signed_in_staff(app, "chief")
    assert (
        _post_removed(
            chief, world.panel.id, {"participant_id": "x9", "display_name": ""}
        ).status_code
        == 204
    )
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "call.participant_removed")
    ).one()
    assert event.candidate_id is None and event.exam_id == world.exam.id
    assert event.data["display_name"] == "（无名称）" and event.data["reason"] == "未显示姓名"
    assert _post_removed(chief, world.panel.id, {"display_name": "x"}).status_code == 400
    assert _post_removed(chief, world.panel.id, ["not", "a", "dict"]).status_code == 400
    examiner = signed_in_staff(app, "examiner2")
    refused = _post_removed(examiner, world.panel.id, {"participant_id": "x9"})
    assert refused.status_code == 403


# --- interview tokens: at most MARGIN_SECONDS past the slot -----------------------------------------


def test_margin_is_two_minutes():
    assert MARGIN_SECONDS == 120


def test_the_finished_candidates_token_is_refused_once_the_margin_is_past(hosted):
    world = World.for_calls()
    first = world.interviewing(lot=5)
    now = utcnow()
    with hosted.test_request_context("/"):
        token = embed_for_candidate(first, now).jwt
    room = world.panel.interview_room
    slot_end = int(first.deadline_at.replace(tzinfo=UTC).timestamp())
    claims = verify(token, RULES, room=room, now=int(now.timestamp()))
    assert claims["exp"] <= slot_end + MARGIN_SECONDS + 1
    verify(token, RULES, room=room, now=slot_end + MARGIN_SECONDS - 5)  # a reconnect at the end
    # The next candidate's interview in the same room, past the margin: the old token no longer
    # opens it (within the margin the chief's page removes her: room-guard.js).
    with pytest.raises(TokenRefused, match="Not acceptable by exp"):
        verify(token, RULES, room=room, now=slot_end + MARGIN_SECONDS + 1)


def test_a_token_minted_before_the_timer_ends_no_later_than_the_slot_would(hosted):
    world = World.for_calls()
    called = world.candidate(S.INTERVIEW_CALLED, 6)
    now = utcnow()
    with hosted.test_request_context("/"):
        token = embed_for_candidate(called, now).jwt
    exam = world.exam
    slot = (exam.reading_minutes + exam.minutes_per_candidate) * 60
    claims = verify(token, RULES, room=world.panel.interview_room, now=int(now.timestamp()))
    assert claims["exp"] - int(now.timestamp()) <= slot + MARGIN_SECONDS + 1
    # The timer can only start later than now, so the slot ends later than this token.
    later_slot_end = now + timedelta(seconds=slot)
    assert claims["exp"] <= int(later_slot_end.timestamp()) + MARGIN_SECONDS + 1


def test_the_exams_supervisors_are_on_it_by_their_exact_observer_names(world):
    from app.day.supervision import assign_supervisor, observer_display_name

    patrol = gen_user("patrol", role=Role.SUPERVISOR, display_name="周老师")
    gen_user("stranger", role=Role.SUPERVISOR, display_name="吴老师")
    assign_supervisor(world.panel.exam, patrol.id)
    db.session.commit()
    roster = room_roster.interview_roster(world.panel)
    assert roster.allows(observer_display_name(patrol)) and roster.allows("巡考 周老师")
    assert not roster.allows("巡考 吴老师")  # a 巡考 of no assignment here, or anyone typing it
