"""The periodic sweep: the entry cut-off and lots for those not looking; one chain of jobs."""

from datetime import timedelta

from sqlalchemy import select

from app import db
from app.jobs.queue import get_queue
from app.jobs.sweep import ensure_scheduled, run_sweep, sweep
from app.journey import perform
from app.models import AuditEvent, Candidate
from app.models.candidate import CandidateState as S
from tests.factories import World


def test_sweep_marks_absentees_and_assigns_lots_once(app):
    world = World()
    waiting, confirmed, silent = world.candidates
    world.to_waiting(waiting)
    perform(confirmed.id, "confirm", world.as_candidate(confirmed), world.now)
    assert sweep(world.now + timedelta(minutes=5)) == {world.exam.id: 0}  # nothing due yet

    after_cutoff = world.now + timedelta(minutes=30)
    assert sweep(after_cutoff) == {world.exam.id: 3}
    db.session.expire_all()
    states = {
        c.id: (c.state, c.lot_number, c.lot_assigned) for c in db.session.scalars(select(Candidate))
    }
    assert states[confirmed.id][0] == S.ABSENT
    assert states[silent.id][0] == S.DECLINED  # never confirmed by the deadline
    state, lot, assigned = states[waiting.id]
    assert state == S.WAITING and lot in (1, 2, 3) and assigned  # random among the panel's
    before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    assert sweep(after_cutoff + timedelta(minutes=1)) == {world.exam.id: 0}  # idempotent
    assert (
        db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == before
    )


def test_exams_outside_their_day_are_left_alone(app):
    world = World()
    assert sweep(world.now + timedelta(days=2)) == {}
    assert sweep(world.now - timedelta(hours=2)) == {}


def test_one_chain_of_sweep_jobs_however_many_start_it(app):
    queue = get_queue()
    world = World()
    assert ensure_scheduled(queue, world.now) is True
    assert ensure_scheduled(queue, world.now) is False  # a second worker starting
    assert len(queue.scheduled_job_registry.get_job_ids()) == 1
    later = world.now + timedelta(seconds=60)
    assert run_sweep(later) == {world.exam.id: 0}  # the job schedules the next run, then sweeps
    assert run_sweep(later) == {world.exam.id: 0}  # delivered twice: still one next run
    assert len(queue.scheduled_job_registry.get_job_ids()) == 2
