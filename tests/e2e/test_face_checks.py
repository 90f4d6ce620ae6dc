"""人脸核验 in Chromium (issue 19): a fake camera fed from a real face photo (a Y4M clip of
scikit-image's astronaut through --use-file-for-fake-video-capture). The candidate accepts the
notice before the device check; in the debug call her page sends stills from its own camera; an
RQ worker compares them with the ID photo; the assistant sees both pictures side by side with the
verdict and checks the identity; in the interview the page sends periodic stills, compared with
that reference, and the examiners' console shows the comparison. A second Chromium whose camera
shows an empty room makes 人像离屏 on the examiners' console.
"""

import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from rq import SimpleWorker
from sqlalchemy import func, select

from app import db
from app.day.id_photo import store_photo
from app.faces import engine
from app.jobs.queue import get_queue
from app.journey import Actor, perform
from app.models import Candidate, FaceStill
from app.timeutil import utcnow
from tests import face_photos as photos
from tests.conftest import app_with, release_app
from tests.e2e.actions import (
    enter_code,
    read_all_notices,
    staff_sign_in,
    start_interview,
    walk_to_waiting,
)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, EXPECT_TIMEOUT_MS, Session, fresh, shot
from tests.e2e.world import move_entry_cutoff_to_now, seed

# The second Chromium of this module (its camera shows an empty room), for `empty_camera`.
_LAUNCHED: dict = {}


@pytest.fixture(scope="module")
def browser(browser, tmp_path_factory):
    """This module's Chromium for `e2e`: its fake camera shows the astronaut. Launched through
    the session's Chromium (one Playwright per process), with an empty-room twin beside it."""
    folder = tmp_path_factory.mktemp("camera")
    clips = {"face": folder / "astronaut.y4m", "empty": folder / "empty.y4m"}
    photos.write_y4m(photos.webcam_scene(), clips["face"])
    photos.write_y4m(Image.new("RGB", (640, 480), (96, 104, 112)), clips["empty"])
    for name, clip in clips.items():
        _LAUNCHED[name] = browser.browser_type.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={clip}"],
        )
    try:
        yield _LAUNCHED["face"]
    finally:
        for chromium in _LAUNCHED.values():
            chromium.close()
        _LAUNCHED.clear()


@pytest.fixture
def empty_camera(browser):
    return _LAUNCHED["empty"]


def stills_of(page, candidate_id: int, purpose: str, at_least: int = 1, seconds: float = 30) -> int:
    """Wait until the page has sent `at_least` stills of this purpose; how many there are. The
    wait is Playwright's: the session routes every request through this process, so a plain
    sleep would hold the page's upload back."""
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        db.session.rollback()
        count = db.session.scalar(
            select(func.count(FaceStill.id)).where(
                FaceStill.candidate_id == candidate_id, FaceStill.purpose == purpose
            )
        )
        if count >= at_least:
            return count
        page.wait_for_timeout(500)
    raise AssertionError(f"{count} {purpose} stills after {seconds} s")


def run_worker(worker_app) -> None:
    """The RQ worker's burst, in an app whose instance folder is the live server's."""
    with worker_app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        db.session.remove()


def test_the_candidates_camera_stills_are_compared_and_the_assistant_sees_the_verdict(
    e2e, live_server, config_class
):
    world = seed(candidates=1, minutes_per_candidate=10)
    exam = world.exam
    exam.face_checks = True
    exam.requires_id_photo = True
    exam.face_check_purpose = "核验考生本人身份，防止替考。"
    exam.face_check_interval_seconds = 10
    me = world.candidates[0]
    me.id_photo_path = store_photo(
        Path(live_server.instance), me.id, "jpg", photos.astronaut_still()
    )
    db.session.commit()
    perform(me.id, "confirm", Actor.of_candidate(me), utcnow())
    read_all_notices(me)
    worker_app = app_with(config_class, INSTANCE_PATH=str(live_server.instance))
    try:
        # The notice comes before the device check, and she must accept it.
        candidate = e2e.new_page("candidate")
        enter_code(candidate, me.code)
        expect(candidate.locator("#face-consent")).to_contain_text("核验考生本人身份，防止替考。")
        expect(candidate.locator("#device-check")).to_have_count(0)
        candidate.locator("#face-consent input[name=accept]").check()
        candidate.get_by_role("button", name="同意并继续").click()
        expect(candidate.locator("#device-check")).to_be_visible()
        candidate.get_by_role("button", name="下一步：进入调试等候间").click()
        expect(candidate.locator("[data-stage=debug_waiting]")).to_be_visible()

        assistant = e2e.new_page("assistant")
        staff_sign_in(assistant, "assistant1")
        perform(me.id, "call_debug", Actor.staff(world.assistant), utcnow())
        perform(me.id, "accept_debug", Actor.of_candidate(fresh(Candidate, me.id)), utcnow())
        expect(candidate.locator("#face-stills")).to_have_count(1)
        assistant.goto(f"/assistant/panels/{world.panel.id}")

        # Her page sends a still from its own camera; the worker compares it with the ID photo.
        stills_of(candidate, me.id, "identity")
        run_worker(worker_app)
        check = assistant.locator("#face-check")
        expect(check.locator("[data-verdict]")).to_have_attribute("data-verdict", "match")
        expect(check).to_contain_text("一致")
        expect(check).to_contain_text("距离")
        expect(check.locator("img.id-photo")).to_be_visible()
        expect(check.locator("img.face-still")).to_be_visible()
        # The still itself, served to her assistant (the image loads after the fragment).
        assistant.wait_for_function(
            "() => { const img = document.querySelector('#face-check img.face-still');"
            " return img && img.complete && img.naturalWidth === 480; }",
            timeout=EXPECT_TIMEOUT_MS,
        )
        shot(assistant, "assistant-face-check")
        check.get_by_role("button", name="身份已核验").click()
        expect(assistant.locator("#face-check button")).to_have_count(0)
        expect(assistant.locator("#face-check .badge.ok").last).to_have_text("已核验")
        checked = fresh(Candidate, me.id)
        assert checked.identity_checked_at is not None
        reference = db.session.scalars(
            select(FaceStill).where(FaceStill.is_reference.is_(True))
        ).one()
        assert reference.verdict == "match"

        # The interview: stills every 10 s, each compared with the reference.
        staff = Actor.staff(world.assistant)
        perform(me.id, "mark_debugged", staff, utcnow())
        perform(me.id, "enter_waiting", Actor.of_candidate(fresh(Candidate, me.id)), utcnow())
        perform(me.id, "draw_lot", Actor.of_candidate(fresh(Candidate, me.id)), utcnow())
        move_entry_cutoff_to_now(exam.id)
        chief = e2e.new_page("chief")
        staff_sign_in(chief, "chief1")
        start_interview(fresh(Candidate, me.id), world.chief, seconds_left=500, minutes=10)
        chief.goto(f"/examiner/panels/{world.panel.id}")
        expect(candidate.locator("[data-stage=interviewing]")).to_be_visible()
        stills_of(candidate, me.id, "watch", at_least=2, seconds=40)
        run_worker(worker_app)
        watch = list(db.session.scalars(select(FaceStill).where(FaceStill.purpose == "watch")))
        assert all(s.verdict == "match" and s.reference_still_id == reference.id for s in watch)
        expect(chief.locator("#room [data-face-latest]")).to_have_attribute(
            "data-face-latest", "match"
        )
        shot(chief, "examiner-face-latest")
    finally:
        release_app(worker_app)


def test_a_face_that_leaves_the_frame_in_the_interview_is_a_signal_on_the_examiners_console(
    e2e, empty_camera, live_server, config_class
):
    world = seed(candidates=1, minutes_per_candidate=10)
    exam = world.exam
    exam.face_checks = True
    exam.face_check_purpose = "核验考生本人身份。"
    exam.face_check_interval_seconds = 10
    me = world.candidates[0]
    me.face_consent_at = utcnow()
    db.session.commit()
    walk_to_waiting(me, world.assistant)
    # The day's reference, as the identity check leaves it (its descriptor is what counts).
    seen = engine.analyse(photos.astronaut_still())
    db.session.add(
        FaceStill(
            exam_id=exam.id,
            candidate_id=me.id,
            purpose="identity",
            state="debugging",
            path="uploads/face_stills/reference.jpg",
            size=1,
            verdict="match",
            faces=1,
            descriptor=engine.to_bytes(seen.descriptor),
            is_reference=True,
        )
    )
    db.session.commit()
    move_entry_cutoff_to_now(exam.id)
    start_interview(fresh(Candidate, me.id), world.chief, seconds_left=500, minutes=10)
    chief = e2e.new_page("chief")
    staff_sign_in(chief, "chief1")
    chief.goto(f"/examiner/panels/{world.panel.id}")

    # Her camera now shows the room without her.
    away = Session(browser=empty_camera, server=live_server)
    worker_app = app_with(config_class, INSTANCE_PATH=str(live_server.instance))
    try:
        candidate = away.new_page("candidate, out of frame")
        enter_code(candidate, me.code)
        expect(candidate.locator("[data-stage=interviewing]")).to_be_visible()
        # No face for FACE_ABSENT_SECONDS (30): the fourth still 10 s apart is the first to say so.
        stills_of(candidate, me.id, "watch", at_least=4, seconds=60)
        run_worker(worker_app)
        watch = list(db.session.scalars(select(FaceStill).where(FaceStill.purpose == "watch")))
        assert {s.verdict for s in watch} == {"no_face"}
        expect(chief.locator("#room [data-signal=face-away]")).to_contain_text("人像离屏 1")
        expect(chief.locator("#room [data-face-latest]")).to_have_attribute(
            "data-face-latest", "no_face"
        )
        assert fresh(Candidate, me.id).face_away_signals == 1
        shot(chief, "examiner-face-away")
    finally:
        away.close()
        release_app(worker_app)
