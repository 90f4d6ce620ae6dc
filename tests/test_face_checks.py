"""人脸核验 on the server (issue 19): the stills a candidate's page may send, the RQ job that
compares them on real photographs, the verdict beside the ID photo at the identity check (a
note against 不一致), the periodic signals (人像离屏, 他人在场, 疑似替考, 画面中断), who may see a
still, the consent notice, and the purge the retention calls."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import current_app
from rq import SimpleWorker
from sqlalchemy import func, select

from app import db
from app.day.id_photo import store_photo
from app.faces import stills as face_stills
from app.faces.signals import flag_stopped_stills
from app.jobs.faces import analyse_still_here
from app.jobs.queue import get_queue
from app.journey import Actor, Refused, perform
from app.models import AuditEvent, Candidate, FaceStill, Role
from app.models.candidate import CandidateState as S
from tests import face_photos as photos
from tests.candidate_client import CandidateBrowser
from tests.conftest import signed_in_staff
from tests.factories import World, gen_user

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    return World(
        face_checks=True,
        requires_id_photo=True,
        face_check_purpose="核验考生本人身份，防止替考。",
        face_check_interval_seconds=30,
    )


def fresh(candidate) -> Candidate:
    db.session.expire_all()
    found = db.session.get(Candidate, candidate.id)
    assert found is not None
    return found


def with_id_photo(candidate, data: bytes | None = None) -> None:
    relative = store_photo(
        Path(current_app.instance_path), candidate.id, "jpg", data or photos.astronaut_still()
    )
    candidate.id_photo_path = relative
    db.session.commit()


def in_debug_call(world, candidate, at=None, consent=True):
    at = at or world.now
    if consent:
        candidate.face_consent_at = at
    with_id_photo(candidate)
    world.to_debug_waiting(candidate, at)
    perform(candidate.id, "call_debug", Actor.staff(world.assistant), at)
    return perform(candidate.id, "accept_debug", Actor.of_candidate(candidate), at)


def still_of(candidate, data: bytes, at) -> FaceStill:
    with time_machine.travel(at, tick=False):
        still = face_stills.accept_still(fresh(candidate), data, at)
        db.session.commit()
        return still


def analysed(candidate, data: bytes, at) -> FaceStill:
    still = still_of(candidate, data, at)
    analyse_still_here(still.id)
    db.session.expire_all()
    found = db.session.get(FaceStill, still.id)
    assert found is not None
    return found


def refusal_of(action) -> str:
    with pytest.raises(Refused) as refused:
        action()
    db.session.rollback()
    return refused.value.code


def interviewing(world, candidate, at):
    """Checked against the identity still, then straight into the room (as the journey's
    interview moves would put her; the face rules read only the state)."""
    perform(candidate.id, "check_identity", Actor.staff(world.assistant), at)
    c = fresh(candidate)
    c.state = S.INTERVIEWING
    c.state_changed_at = at
    db.session.commit()


# --- the identity check: the job on real faces ---------------------------------------------------


def test_the_debug_still_of_the_same_person_matches_the_id_photo_through_rq(world):
    c = world.candidates[0]
    in_debug_call(world, c)
    still = still_of(c, photos.jpeg(photos.camera_frame(photos.astronaut())), world.now)
    assert face_stills.enqueue_analysis(still.id)
    queue = get_queue()
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.expire_all()
    done = db.session.get(FaceStill, still.id)
    assert done is not None
    assert (done.verdict, done.faces, done.compared_with, done.reference_faces) == (
        "match",
        1,
        "id_photo",
        1,
    )
    assert done.distance is not None and done.distance < 0.55
    assert done.analysis_ms is not None and done.analysis_ms > 0
    assert done.descriptor is not None and len(done.descriptor) == 128 * 4
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "face.identity_compared")
    ).one()
    assert event.data["label"] == "一致" and event.data["still_id"] == still.id


@pytest.mark.parametrize(
    ("still", "verdict", "faces"),
    [
        (photos.other_person, "mismatch", 1),
        (photos.empty_frame, "no_face", 0),
        (photos.two_faces, "many_faces", 2),
    ],
)
def test_the_debug_still_verdicts(world, still, verdict, faces):
    c = world.candidates[0]
    in_debug_call(world, c)
    done = analysed(c, still(), world.now)
    assert (done.verdict, done.faces) == (verdict, faces)
    if verdict == "mismatch":
        assert done.distance is not None and done.distance >= 0.65


def test_without_an_id_photo_the_still_has_nothing_to_compare_with(app):
    world = World(face_checks=True, face_check_purpose="核验身份")
    c = world.candidates[0]
    c.face_consent_at = world.now
    world.to_debug_waiting(c)
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    perform(c.id, "accept_debug", Actor.of_candidate(c), world.now)
    done = analysed(c, photos.astronaut_still(), world.now)
    assert (done.verdict, done.faces, done.distance) == ("no_reference", 1, None)


def test_a_still_that_does_not_decode_in_the_worker_is_could_not_compare(world):
    c = world.candidates[0]
    in_debug_call(world, c)
    still = still_of(c, photos.astronaut_still(), world.now)
    (face_stills.stills_dir() / still.path).write_bytes(b"\xff\xd8\xff broken")
    assert analyse_still_here(still.id) == "failed"
    db.session.expire_all()
    failed = db.session.get(FaceStill, still.id)
    assert failed is not None and failed.verdict == "failed" and "not an image" in failed.error
    assert analyse_still_here(still.id) == "already failed"  # RQ may deliver twice


# --- what the page may send, when ------------------------------------------------------------------


def test_stills_are_taken_only_in_the_debug_call_interview_and_rest_room(world):
    c = world.candidates[0]
    c.face_consent_at = world.now
    with_id_photo(c)
    world.to_debug_waiting(c)
    assert refusal_of(lambda: face_stills.accept_still(fresh(c), photos.astronaut_still())) == (
        "face_still_not_now"
    )
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    perform(c.id, "accept_debug", Actor.of_candidate(c), world.now)
    assert face_stills.purpose_now(fresh(c), c.exam) == "identity"
    perform(c.id, "check_identity", Actor.staff(world.assistant), world.now)
    assert face_stills.purpose_now(fresh(c), c.exam) is None  # checked: the reference is fixed
    for state, purpose in [(S.INTERVIEWING, "watch"), (S.RESTING, "watch"), (S.WAITING, None)]:
        fresh(c).state = state
        db.session.commit()
        assert face_stills.purpose_now(fresh(c), c.exam) == purpose, state
    c = fresh(c)
    c.exam.face_check_interval_seconds = 0
    c.state = S.INTERVIEWING
    db.session.commit()
    assert face_stills.purpose_now(fresh(c), c.exam) is None


def test_no_still_without_consent_or_when_the_exam_has_no_face_checks(world):
    c = world.candidates[0]
    in_debug_call(world, c)
    fresh(c).face_consent_at = None
    db.session.commit()
    assert refusal_of(lambda: face_stills.accept_still(fresh(c), photos.astronaut_still())) == (
        "face_consent_missing"
    )
    c = fresh(c)
    c.face_consent_at = world.now
    c.exam.face_checks = False
    db.session.commit()
    assert refusal_of(lambda: face_stills.accept_still(fresh(c), photos.astronaut_still())) == (
        "face_still_not_now"
    )


def test_a_still_must_be_a_small_jpeg_that_decodes(app):
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (64, 48)).save(png, "PNG")
    huge = io.BytesIO()
    Image.effect_noise((1200, 900), 80).convert("RGB").save(huge, "JPEG", quality=100)
    cases = {
        b"": "face_still_empty",
        png.getvalue(): "face_still_not_jpeg",
        b"\xff\xd8\xff\xe0" + b"\x00" * 64: "face_still_not_jpeg",
        huge.getvalue(): "face_still_too_large",
    }
    for data, code in cases.items():
        assert refusal_of(lambda data=data: face_stills.check_jpeg(data)) == code
    face_stills.check_jpeg(photos.astronaut_still())  # no refusal


def test_the_page_is_refused_stills_faster_than_its_interval(world):
    c = world.candidates[0]
    in_debug_call(world, c)
    still_of(c, photos.astronaut_still(), world.now)
    assert refusal_of(
        lambda: face_stills.accept_still(fresh(c), photos.astronaut_still(), world.now)
    ) == ("face_still_too_soon")
    still_of(c, photos.astronaut_still(), world.now + timedelta(seconds=16))


def test_the_upload_endpoint_answers_the_page_and_never_a_500(world, client, app):
    c = world.candidates[0]
    in_debug_call(world, c)
    me = CandidateBrowser(client)
    assert me.enter_code(c.code).status_code == 303
    page = me.html()
    assert 'id="face-stills"' in page and 'data-every="15"' in page
    token = me.token()

    def send(data, **extra):
        return client.post(
            "/me/face-still",
            data={"csrf_token": token, "still": (io.BytesIO(data), "still.jpg"), **extra},
            content_type="multipart/form-data",
            environ_base=me.environ,
        )

    answer = send(photos.astronaut_still())
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.json["next"] == 15
    assert send(photos.astronaut_still()).status_code == 429
    assert send(b"not a jpeg").status_code == 422
    assert send(b"\xff" * (face_stills.STILL_MAX_BYTES + 10)).status_code == 422
    no_token = client.post(
        "/me/face-still",
        data={"still": (io.BytesIO(photos.astronaut_still()), "still.jpg")},
        content_type="multipart/form-data",
        environ_base=me.environ,
    )
    assert no_token.status_code == 400  # CSRF
    # Someone not signed in (or a page whose session was taken over) is told to stop.
    stranger = app.test_client()
    stranger_token = CandidateBrowser(stranger).token()
    anonymous = stranger.post(
        "/me/face-still",
        data={
            "csrf_token": stranger_token,
            "still": (io.BytesIO(photos.astronaut_still()), "s.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert anonymous.status_code == 401 and anonymous.json["stop"] is True
    assert db.session.scalar(select(func.count(FaceStill.id))) == 1


# --- 身份已核验: the verdict beside the ID photo ----------------------------------------------------


def test_the_assistant_sees_both_pictures_and_the_verdict_and_a_no_match_needs_a_note(world, app):
    c = world.candidates[0]
    in_debug_call(world, c)
    still = analysed(c, photos.other_person(), world.now)
    assistant = signed_in_staff(app, "assistant")
    fragment = assistant.get(f"/assistant/candidates/{c.id}/face-check", headers=HX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert f"/assistant/candidates/{c.id}/id-photo" in html
    assert f"/staff/face-stills/{still.id}.jpg" in html
    assert 'data-verdict="mismatch"' in html and "不一致" in html
    assert f"{still.distance:.3f}" in html
    assert 'name="note"' in html and "required" in html

    url = f"/assistant/candidates/{c.id}/check-identity"
    token = assistant.get(f"/assistant/panels/{world.panel.id}").get_data(as_text=True)
    from tests.conftest import csrf_token_from

    csrf = csrf_token_from(token)
    refused = assistant.post(url, data={"csrf_token": csrf, "still_id": still.id}, headers=HX)
    assert refused.status_code == 409
    assert fresh(c).identity_checked_at is None
    # The board's plain button is refused the same way: the rule is the move's, not the form's.
    board = assistant.post(
        f"/assistant/candidates/{c.id}/check_identity", data={"csrf_token": csrf}, headers=HX
    )
    assert board.status_code == 409 and fresh(c).identity_checked_at is None
    ok = assistant.post(
        url,
        data={"csrf_token": csrf, "still_id": still.id, "note": "身份证原件对镜头核对无误"},
        headers=HX,
    )
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert fresh(c).identity_checked_at is not None
    db.session.expire_all()
    reference = db.session.get(FaceStill, still.id)
    assert reference is not None and reference.is_reference
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "journey.check_identity")
    ).one()
    assert event.data["note"] == "身份证原件对镜头核对无误"
    assert event.data["face_verdict"] == "mismatch" and event.data["still_id"] == still.id


def test_a_match_is_checked_without_a_note_and_a_failed_job_leaves_the_decision_to_her(world):
    c = world.candidates[0]
    in_debug_call(world, c)
    still = still_of(c, photos.astronaut_still(), world.now)
    fresh_still = db.session.get(FaceStill, still.id)
    assert fresh_still is not None
    fresh_still.verdict = "failed"
    db.session.commit()
    perform(c.id, "check_identity", Actor.staff(world.assistant), world.now, still_id=still.id)
    assert fresh(c).identity_checked_at is not None


# --- the interview and the rest room: periodic stills and signals -------------------------------


def signals(candidate, kind="face.signal") -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.kind == kind, AuditEvent.candidate_id == candidate.id)
            .order_by(AuditEvent.id)
        )
    )


def test_periodic_stills_are_compared_with_the_reference_and_raise_signals_once_per_run(world, app):
    app.config["FACE_ABSENT_SECONDS"] = 30
    c = world.candidates[0]
    in_debug_call(world, c)
    reference = analysed(c, photos.astronaut_still(), world.now)
    interviewing(world, c, world.now + timedelta(seconds=30))
    start = world.now + timedelta(minutes=1)

    def at(seconds):
        return start + timedelta(seconds=seconds)

    same = analysed(c, photos.jpeg(photos.camera_frame(photos.astronaut())), at(0))
    assert (same.verdict, same.compared_with, same.reference_still_id) == (
        "match",
        "reference",
        reference.id,
    )
    assert signals(c) == []
    # No face: the first empty still is not yet 30 s; the second is, once; the third adds none.
    for seconds in (30, 60, 90):
        assert analysed(c, photos.empty_frame(), at(seconds)).verdict == "no_face"
    away = signals(c)
    assert [e.data["signal"] for e in away] == ["away"]
    assert away[0].data["label"] == "人像离屏" and away[0].data["seconds"] == 30
    assert fresh(c).face_away_signals == 1
    # Someone else in view; a stand-in.
    analysed(c, photos.two_faces(), at(120))
    analysed(c, photos.two_faces(), at(150))
    analysed(c, photos.other_person(), at(180))
    kinds = [e.data["signal"] for e in signals(c)]
    assert kinds == ["away", "others", "mismatch"]
    c = fresh(c)
    assert (c.face_others_signals, c.face_mismatch_signals) == (1, 1)
    assert all(e.data["still_id"] for e in signals(c))
    # HR's timeline tells each in words, with its still to look at after the exam.
    page = signed_in_staff(app, "hr").get(f"/hr/exams/{c.exam_id}/candidates/{c.id}/timeline")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "人像离屏：30 秒未检测到人脸" in html and "他人在场：2 张人脸" in html
    assert "疑似替考（人脸不一致）：距离" in html
    for event in signals(c):
        assert f"/staff/face-stills/{event.data['still_id']}.jpg" in html


def test_the_consoles_show_the_signals_and_the_latest_comparison(world, app):
    c = world.candidates[0]
    in_debug_call(world, c)
    analysed(c, photos.astronaut_still(), world.now)
    interviewing(world, c, world.now)
    c = fresh(c)
    c.lot_number = 3
    db.session.commit()
    analysed(c, photos.two_faces(), world.now + timedelta(seconds=40))
    board = signed_in_staff(app, "assistant").get(
        f"/assistant/panels/{world.panel.id}/board", headers=HX
    )
    html = board.get_data(as_text=True)
    assert 'data-signal="face-others"' in html and "他人在场 1" in html
    assert 'data-face-latest="many_faces"' in html
    room = (
        signed_in_staff(app, "chief")
        .get(f"/examiner/panels/{world.panel.id}/room", headers=HX)
        .get_data(as_text=True)
    )
    assert 'data-signal="face-others"' in room and 'data-face-latest="many_faces"' in room


def test_stills_that_stop_arriving_are_flagged_once_per_gap(world):
    c = world.candidates[0]
    in_debug_call(world, c)
    analysed(c, photos.astronaut_still(), world.now)
    interviewing(world, c, world.now)
    last = world.now + timedelta(seconds=30)
    analysed(c, photos.astronaut_still(), last)

    def sweep_at(seconds):
        moment = last + timedelta(seconds=seconds)
        with time_machine.travel(moment, tick=False):
            return flag_stopped_stills(c.exam_id, moment)

    assert sweep_at(60) == 0  # two intervals: a slow upload, not a gap
    assert sweep_at(91) == 1
    assert sweep_at(200) == 0  # the same gap
    assert fresh(c).stills_stopped_signals == 1
    assert signals(c, "face.stills_stopped")[0].data["label"] == "画面中断"


# --- who may see a still ----------------------------------------------------------------------------


def test_stills_are_served_to_staff_of_that_exam_only(world, app, client):
    c = world.candidates[0]
    in_debug_call(world, c)
    still = still_of(c, photos.astronaut_still(), world.now)
    url = f"/staff/face-stills/{still.id}.jpg"
    for username in ("assistant", "hr", "chief"):
        answer = signed_in_staff(app, username).get(url)
        assert answer.status_code == 200, username
        assert answer.mimetype == "image/jpeg" and "no-store" in answer.headers["Cache-Control"]
        assert answer.get_data() == photos.astronaut_still()
        answer.close()
    other = world.add_other_panel("outsider_chief")
    assert other is not None
    assert signed_in_staff(app, "outsider_chief").get(url).status_code == 404
    gen_user("assistant_elsewhere", role=Role.ASSISTANT)
    assert signed_in_staff(app, "assistant_elsewhere").get(url).status_code == 404
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    assert client.get(url, environ_base=me.environ).status_code in (302, 401, 403)


# --- consent --------------------------------------------------------------------------------------


def test_the_notice_comes_before_the_device_check_and_must_be_accepted(world, client):
    c = world.candidates[0]
    with_id_photo(c)
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    me.post("/me/confirm", htmx=False)
    world.read_notices(c)
    page = me.html()
    assert "人脸核验告知" in page and "核验考生本人身份，防止替考。" in page
    assert 'id="device-check"' not in page
    assert "阅读人脸核验告知并点击“同意”" in page
    assert refusal_of(lambda: perform(c.id, "enter_debug", Actor.of_candidate(c))) == (
        "face_consent_needed"
    )
    assert me.post("/me/face-consent", htmx=False).status_code in (303, 422)
    assert fresh(c).face_consent_at is None
    assert me.post("/me/face-consent", htmx=False, accept="1").status_code == 303
    assert fresh(c).face_consent_at is not None
    assert 'id="device-check"' in me.html()
    perform(c.id, "enter_debug", Actor.of_candidate(fresh(c)))
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "candidate.face_consent")
    ).one()
    assert event.data["purpose"] == "核验考生本人身份，防止替考。"


# --- retention: the one function the purge calls ------------------------------------------------


def test_purge_face_data_removes_the_exams_stills_and_descriptors(world):
    c = world.candidates[0]
    in_debug_call(world, c)
    kept_for_now = analysed(c, photos.astronaut_still(), world.now)
    path = face_stills.stills_dir() / kept_for_now.path
    assert path.is_file()
    assert face_stills.purge_face_data(c.exam_id, before=world.now) == 0
    assert face_stills.purge_face_data(c.exam_id + 1000) == 0
    (path.parent / (path.name + ".part")).write_bytes(b"half")  # a killed write's leftover
    assert len(face_stills.files_of_still(kept_for_now)) == 2
    assert face_stills.purge_face_data(c.exam_id) == 1
    db.session.commit()
    assert not path.exists() and not (path.parent / (path.name + ".part")).exists()
    assert db.session.scalar(select(func.count(FaceStill.id))) == 0
    assert face_stills.remove_still_row(kept_for_now.id) is None  # already gone


def test_stills_follow_the_exams_retention_and_the_backup_lists_them(world, runner, tmp_path):
    from app.models import Exam, Violation

    first, second = world.candidates[:2]
    in_debug_call(world, first)
    mine = analysed(first, photos.astronaut_still(), world.now)
    # Another candidate's still (the assistant has one debug call at a time: stored directly).
    hers = FaceStill(
        exam_id=second.exam_id,
        candidate_id=second.id,
        purpose=mine.purpose,
        state="resting",
        path=f"uploads/face_stills/{second.exam_id}/{second.id}/1.jpg",
        size=mine.size,
    )
    db.session.add(hers)
    db.session.commit()
    (face_stills.stills_dir() / hers.path).parent.mkdir(parents=True, exist_ok=True)
    (face_stills.stills_dir() / hers.path).write_bytes(
        (face_stills.stills_dir() / mine.path).read_bytes()
    )
    mine_path = face_stills.stills_dir() / mine.path
    hers_path = face_stills.stills_dir() / hers.path
    # The backup's manifest holds every still with its hash.
    assert runner.invoke(args=["backup", "create", str(tmp_path / "b")]).exit_code == 0
    manifest = (tmp_path / "b" / "manifest.json").read_text()
    assert f"face still {mine.id}" in manifest and f"face still {hers.id}" in manifest

    exam = db.session.get(Exam, first.exam_id)
    exam.login_closes_at = world.now - timedelta(days=40)
    exam.retain_evidence_days = 30
    # Her still may be evidence: a violation flag keeps it until the review is closed.
    db.session.add(Violation(candidate_id=second.id, kind="phone", note="接打电话"))
    db.session.commit()

    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"face still {mine.id}" in dry.output and mine_path.is_file()

    out = runner.invoke(args=["retention", "purge"])
    assert out.exit_code == 0, out.output
    db.session.expire_all()
    assert not mine_path.exists() and db.session.get(FaceStill, mine.id) is None
    assert hers_path.is_file() and db.session.get(FaceStill, hers.id) is not None
    purged = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "retention.purged")
    ).all()
    assert [e.data["data_kind"] for e in purged] == ["face_stills"]
    assert purged[0].candidate_id == first.id
