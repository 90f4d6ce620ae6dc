"""`flask retention purge`: delete what each exam keeps no longer, never what is under review.

Per exam and kind (app/retention/kinds.py) the exam office sets days after the login closes; no
number, nothing goes. Each item goes in one transaction: lock and check its candidates' review
again, delete the row's reference, write the audit event, unlink the files, commit. A purge
killed anywhere leaves either everything (rolled back) or the row without its files, which the
next run finishes: the files are found on disk whatever the row says, a missing file is no
error. Audit rows are never deleted (audit_event is append-only).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app import audit, db
from app.models import Candidate, Exam, User
from app.retention.kinds import KINDS, DataKind, Item
from app.retention.review import under_review


def due_at(exam: Exam, days: int) -> datetime:
    """When a kind kept for `days` goes: that many days after the exam's login closed."""
    return exam.login_closes_at + timedelta(days=days)


@dataclass
class Planned:
    item: Item
    held: dict[int, str]  # the item's candidates under review, with why; {} = it goes


@dataclass
class KindPlan:
    exam: Exam
    kind: DataKind
    days: int
    due: datetime
    due_reached: bool = False
    items: list[Planned] = field(default_factory=list)


def plan(now: datetime, exam_id: int | None = None) -> list[KindPlan]:
    """What a purge at `now` would do: per exam and kind with days set, each item and whether
    a review keeps it. Changes nothing."""
    query = select(Exam).order_by(Exam.id)
    if exam_id is not None:
        query = query.where(Exam.id == exam_id)
    plans = []
    for exam in db.session.scalars(query):
        for kind in KINDS:
            days = getattr(exam, kind.setting)
            if days is None:
                continue
            entry = KindPlan(exam, kind, days, due_at(exam, days))
            entry.due_reached = now >= entry.due
            if entry.due_reached:
                items = list(kind.items(exam))
                held = under_review(set().union(*(i.concerns for i in items)))
                for item in items:
                    mine = {cid: why for cid, why in held.items() if cid in item.concerns}
                    entry.items.append(Planned(item, mine))
            plans.append(entry)
    return plans


@dataclass
class Outcome:
    planned: Planned
    done: str  # "purged" | "kept" | "failed"
    note: str = ""


def purge(now: datetime, actor: User | None = None, exam_id: int | None = None) -> list[Outcome]:
    """Delete every item `plan` finds due and not under review, one transaction each, and audit
    each and the run."""
    outcomes: list[Outcome] = []
    for entry in plan(now, exam_id):
        for planned in entry.items:
            if planned.held:
                outcomes.append(Outcome(planned, "kept"))
                continue
            outcomes.append(_purge_one(planned, actor))
    audit.record(
        "retention.purge_run",
        actor=actor,
        exam_id=exam_id,
        purged=sum(o.done == "purged" for o in outcomes),
        kept=sum(o.done == "kept" for o in outcomes),
        failed=sum(o.done == "failed" for o in outcomes),
        bytes=sum(o.planned.item.size for o in outcomes if o.done == "purged"),
        kinds=sorted({o.planned.item.kind for o in outcomes if o.done == "purged"}),
    )
    db.session.commit()
    return outcomes


def _purge_one(planned: Planned, actor: User | None) -> Outcome:
    item = planned.item
    try:
        # Checked again under the candidates' row locks: a hold or a disqualification since the
        # plan was made keeps the item.
        held = under_review(item.concerns, lock=True)
        if held:
            db.session.rollback()
            planned.held = held
            return Outcome(planned, "kept")
        row = item.remove_rows()
        candidate = db.session.get(Candidate, item.candidate_id) if item.candidate_id else None
        audit.record(
            "retention.purged",
            actor=actor,
            candidate=candidate,
            exam_id=item.exam_id,
            data_kind=item.kind,
            record=item.record,
            files=[p.name for p in item.files],
            bytes=item.size,
            row=row,
        )
        db.session.flush()
        # Unlinked before the commit: killed in between, the row stays and the next run ends
        # it; the other order could leave a file no row points to, never found again.
        for path in item.files:
            path.unlink(missing_ok=True)
        db.session.commit()
    except (OSError, SQLAlchemyError) as problem:
        db.session.rollback()
        return Outcome(planned, "failed", f"{type(problem).__name__}: {problem}")
    return Outcome(planned, "purged")
