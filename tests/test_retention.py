"""Retention (issue 18, Deliver 3): per-exam days per kind of stored personal data, `flask
retention purge [--dry-run]`, audited, idempotent, never touching what is under review."""

import os
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import db
from app.journey import Actor, perform
from app.models import AuditEvent, Candidate, Recording, RecordingStatus, Violation
from app.retention import purge as purge_module
from app.retention.kinds import KINDS, RETENTION_SETTINGS
from app.retention.purge import plan, purge
from app.retention.review import close_review, hold_for_review, review_state
from app.timeutil import utcnow
from tests.refusal_checks import refusal
from tests.stored_data import StoredData


@pytest.fixture(autouse=True)
def _fresh_storage(app):
    for folder in (app.config["RECORDINGS_DIR"], os.path.join(app.instance_path, "uploads")):
        shutil.rmtree(folder, ignore_errors=True)


def _keep(scene, recordings=None, photos=None):
    scene.exam.retain_recordings_days = recordings
    scene.exam.retain_id_photos_days = photos
    db.session.commit()


def _events(kind):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)))


def _files(scene):
    return [scene.file_of(scene.interview), scene.file_of(scene.debug), *scene.photos.values()]


def test_every_exam_setting_a_kind_reads_is_one_the_form_shows():
    assert {k.setting for k in KINDS} <= set(RETENTION_SETTINGS)
    assert set(RETENTION_SETTINGS) == {
        "retain_recordings_days",
        "retain_id_photos_days",
        "retain_evidence_days",
    }


def test_nothing_is_purged_unless_the_exam_sets_days(app, runner):
    scene = StoredData(closed_days_ago=3000)
    out = runner.invoke(args=["retention", "purge"])
    assert out.exit_code == 0, out.output
    assert "purged 0 items" in out.output
    assert all(p.is_file() for p in _files(scene))
    assert db.session.scalar(select(Candidate.id_photo_path).where(Candidate.id == scene.first.id))


def test_dry_run_lists_exactly_what_would_go_and_deletes_nothing(app, runner):
    scene = StoredData(closed_days_ago=40)
    _keep(scene, recordings=30, photos=7)
    before = len(list(db.session.scalars(select(AuditEvent))))
    out = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    going = [line for line in lines if line.startswith("would purge")]
    assert len(going) == 4, lines
    assert any(f"recording {scene.interview.id}" in line for line in going)
    assert any(f"candidate {scene.second.id}" in line and "id_photos" in line for line in going)
    assert str(scene.file_of(scene.interview)) in out.output
    assert lines[-1].startswith("dry run: 4 items would be purged")
    assert all(p.is_file() for p in _files(scene))
    assert len(list(db.session.scalars(select(AuditEvent)))) == before
    assert db.session.get(Recording, scene.interview.id) is not None


def test_not_yet_due_is_said_with_the_date(app, runner):
    scene = StoredData(closed_days_ago=10)
    _keep(scene, recordings=30)
    out = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert "not yet\trecordings\texam" in out.output and "kept 30 days, until" in out.output
    assert "0 items would be purged" in out.output


def test_purge_deletes_files_and_references_and_audits_each_and_the_run(app, runner):
    scene = StoredData(closed_days_ago=40)
    _keep(scene, recordings=30, photos=30)
    before = [e.id for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    out = runner.invoke(args=["retention", "purge"])
    assert out.exit_code == 0, out.output
    assert "purged 4 items" in out.output
    assert not any(p.exists() for p in _files(scene))
    db.session.expire_all()
    assert db.session.scalars(select(Recording)).all() == []
    assert db.session.get(Candidate, scene.first.id).id_photo_path is None
    purged = _events("retention.purged")
    assert len(purged) == 4
    recording_event = next(e for e in purged if e.data["data_kind"] == "recordings")
    assert recording_event.data["row"]["sha256"] in {
        scene.interview.expected_sha256,
        scene.debug.expected_sha256,
    }
    photo_events = [e for e in purged if e.data["data_kind"] == "id_photos"]
    assert {e.candidate_id for e in photo_events} == {scene.first.id, scene.second.id}
    (run,) = _events("retention.purge_run")
    assert run.data["purged"] == 4 and run.data["kept"] == 0 and run.data["failed"] == 0
    # Every earlier audit row is still there (the log is never purged), plus four and the run.
    after = [e.id for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert after[: len(before)] == before and len(after) == len(before) + 5
    again = runner.invoke(args=["retention", "purge"])
    assert again.exit_code == 0 and "purged 0 items" in again.output


def test_only_the_kinds_whose_time_has_come_go(app, runner):
    scene = StoredData(closed_days_ago=40)
    _keep(scene, recordings=365, photos=30)
    assert runner.invoke(args=["retention", "purge"]).exit_code == 0
    assert scene.file_of(scene.interview).is_file() and scene.file_of(scene.debug).is_file()
    assert not any(p.exists() for p in scene.photos.values())


def test_a_disqualified_candidate_keeps_everything_they_appear_in_until_the_review_closes(
    app, runner
):
    scene = StoredData(closed_days_ago=40)
    _keep(scene, recordings=30, photos=30)
    hr = scene.p.hr
    scene.second.state = "resting"
    db.session.commit()
    perform(scene.second.id, "disqualify", Actor.staff(hr), utcnow(), reason="接打电话")
    db.session.expire_all()
    assert review_state(db.session.get(Candidate, scene.second.id)) == "disqualified"
    out = runner.invoke(args=["retention", "purge", "--dry-run"])
    kept = [line for line in out.output.splitlines() if line.startswith("kept")]
    # Her debug-room file, her photo, and the panel's interview-room file (she is in it).
    assert len(kept) == 3, out.output
    assert all(f"candidate {scene.second.id} disqualified" in line for line in kept)
    out = runner.invoke(args=["retention", "purge"])
    assert out.exit_code == 0 and "purged 1 items" in out.output and "3 kept" in out.output
    assert not scene.photos[scene.first.id].exists()  # the other candidate's own photo went
    assert scene.file_of(scene.interview).is_file() and scene.photos[scene.second.id].is_file()
    close_review(db.session.get(Candidate, scene.second.id), "复核维持取消资格决定", hr, utcnow())
    out = runner.invoke(args=["retention", "purge"])
    assert "purged 3 items" in out.output, out.output
    assert not scene.file_of(scene.interview).exists()


def test_a_violation_flag_holds_until_the_review_closes_and_a_later_flag_holds_again(app):
    scene = StoredData(closed_days_ago=40)
    hr = scene.p.hr
    db.session.add(Violation(candidate_id=scene.first.id, kind="phone", note="接打电话"))
    db.session.commit()
    first = db.session.get(Candidate, scene.first.id)
    assert review_state(first) == "violations"
    close_review(first, "复核：不构成违纪", hr, utcnow() + timedelta(seconds=1))
    assert review_state(first) is None
    db.session.add(
        Violation(candidate_id=first.id, kind="phone", created_at=utcnow() + timedelta(seconds=5))
    )
    db.session.commit()
    assert review_state(first) == "violations"


def test_an_open_dispute_is_a_hold_hr_sets_and_closes_with_reasons_audited(app):
    scene = StoredData(closed_days_ago=40)
    hr = scene.p.hr
    first = db.session.get(Candidate, scene.first.id)
    with refusal("reason_required"):
        hold_for_review(first, "  ", hr, utcnow())
    with refusal("review_nothing_open"):
        close_review(first, "x", hr, utcnow())
    hold_for_review(first, "考生对成绩提出申诉", hr, utcnow())
    assert review_state(first) == "hold"
    with refusal("review_already_held"):
        hold_for_review(first, "again", hr, utcnow())
    _keep(scene, photos=0)
    assert [p.held for e in plan(utcnow()) for p in e.items if p.item.candidate_id == first.id] == [
        {first.id: "hold"}
    ]
    close_review(first, "申诉已答复", hr, utcnow())
    (held,) = _events("candidate.review_hold")
    (closed,) = _events("candidate.review_closed")
    assert held.data["reason"] == "考生对成绩提出申诉" and held.actor_id == hr.id
    assert closed.data == {
        "reason": "申诉已答复",
        "was": "hold",
        "hold_reason": "考生对成绩提出申诉",
    }
    assert first.review_hold_at is None and first.review_closed_at is not None


def test_a_hold_set_after_the_plan_still_keeps_the_item(app, monkeypatch):
    """The purge checks the review again under the row lock, not only when it planned."""
    scene = StoredData(closed_days_ago=40)
    _keep(scene, photos=30)
    real_plan = purge_module.plan

    def plan_then_hold(now, exam_id=None):
        plans = real_plan(now, exam_id)
        hold_for_review(db.session.get(Candidate, scene.first.id), "刚收到申诉", scene.p.hr, now)
        return plans

    monkeypatch.setattr(purge_module, "plan", plan_then_hold)
    outcomes = purge(utcnow())
    assert {(o.planned.item.candidate_id, o.done) for o in outcomes} == {
        (scene.first.id, "kept"),
        (scene.second.id, "purged"),
    }
    assert scene.photos[scene.first.id].is_file()


def test_a_purge_killed_after_the_unlink_is_finished_by_the_next_run(app, runner, monkeypatch):
    """Killed between the unlink and the commit: the files are gone, the rows still there."""
    scene = StoredData(closed_days_ago=40)
    _keep(scene, recordings=30)
    for recording in (scene.interview, scene.debug):
        scene.file_of(recording).unlink()  # as the killed run left them
    out = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert "(no file left)" in out.output
    out = runner.invoke(args=["retention", "purge"])
    assert out.exit_code == 0 and "purged 2 items" in out.output
    db.session.expire_all()
    assert db.session.scalars(select(Recording)).all() == []


def test_a_photo_row_cleared_but_its_file_left_is_found_on_disk_and_deleted(app, runner):
    scene = StoredData(closed_days_ago=40)
    _keep(scene, photos=30)
    first = db.session.get(Candidate, scene.first.id)
    first.id_photo_path = None
    db.session.commit()
    leftover = scene.photos[first.id].with_name(f"{first.id}.png.part")
    leftover.write_bytes(b"half an upload")
    assert runner.invoke(args=["retention", "purge"]).exit_code == 0
    assert not scene.photos[first.id].exists() and not leftover.exists()


def test_a_file_that_cannot_be_deleted_rolls_its_item_back_and_fails_the_run(
    app, runner, monkeypatch
):
    scene = StoredData(closed_days_ago=40)
    _keep(scene, recordings=30)
    from pathlib import Path

    real_unlink = Path.unlink

    def refuse(self, missing_ok=False):
        if self.parent.name.startswith("session-ir-a"):
            raise PermissionError(13, "Permission denied", str(self))
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    out = runner.invoke(args=["retention", "purge"])
    assert out.exit_code == 1
    assert f"FAILED\trecordings\texam {scene.exam.id}\trecording {scene.interview.id}" in out.output
    db.session.expire_all()
    assert db.session.get(Recording, scene.interview.id) is not None  # rolled back
    assert db.session.get(Recording, scene.debug.id) is None
    assert len(_events("retention.purged")) == 1
    monkeypatch.undo()
    assert "purged 1 items" in runner.invoke(args=["retention", "purge"]).output


def test_recordings_still_being_pulled_are_left_to_their_job(app, runner):
    scene = StoredData(closed_days_ago=40)
    waiting = scene.recording("ir-a", "interview", b"later", status=RecordingStatus.WAITING)
    _keep(scene, recordings=30)
    assert runner.invoke(args=["retention", "purge"]).exit_code == 0
    db.session.expire_all()
    assert [r.id for r in db.session.scalars(select(Recording))] == [waiting.id]


def test_exam_option_limits_the_run_to_one_exam(app, runner):
    scene = StoredData(closed_days_ago=40)
    _keep(scene, photos=30)
    out = runner.invoke(args=["retention", "purge", "--exam", str(scene.exam.id + 1)])
    assert "purged 0 items" in out.output
    assert all(p.is_file() for p in scene.photos.values())


def test_the_timeline_tells_holds_and_deletions_in_words_with_the_reason(app):
    from app.day.overview import timeline

    scene = StoredData(closed_days_ago=40)
    _keep(scene, photos=30)
    first = db.session.get(Candidate, scene.first.id)
    hold_for_review(first, "考生申诉", scene.p.hr, utcnow())
    close_review(first, "申诉已答复", scene.p.hr, utcnow())
    purge(utcnow())
    lines = [(e.label, e.details) for e in timeline(db.session.get(Candidate, first.id))]
    assert ("暂停清理待复核（申诉处理中）", [("原因", "考生申诉")]) in lines
    assert ("复核已结束", [("原因", "申诉已答复")]) in lines
    assert ("保存期限已满，已删除：身份证照片", []) in lines
