"""The benchmark's data: one big exam (5,000 candidates) and one small (500), same shape.

Candidates go in with one bulk INSERT (the HTTP import validates and audits every row, which
is not what is measured here). Each exam has 10 panels with a chief examiner and an assistant;
candidates are spread over the panels and, within each panel, over the states a polling
candidate is usually in during the exam day's busiest minutes: half waiting with a lot number
(the poll also reads the panel's queue version), the rest confirmed or just invited. Every
panel has its own chief examiner and assistant, who call and spot-check during the load.
"""

from dataclasses import asdict, dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import insert

from app import db
from app.models import Broadcast, Candidate, Exam, ExamKind, Notice, Role, User
from app.models.candidate import CandidateState as S
from app.setup.codes import allocate_codes
from app.setup.panels import create_panel, set_panel_staff
from app.timeutil import utcnow

PANELS_PER_EXAM = 10
STAFF_PASSWORD = "bench-password-2026"


@dataclass
class SeededExam:
    exam_id: int
    candidates: int
    panel_ids: list[int]
    # Per candidate: (code, state); the load generator signs in with these.
    codes: list[tuple[str, str]] = field(repr=False)
    chief: str = ""
    assistant: str = ""
    # Per candidate, in the order of `codes`: (id, panel_id); per panel: its chief, assistant.
    people: list[tuple[int, int]] = field(default_factory=list, repr=False)
    chiefs: list[str] = field(default_factory=list)
    assistants: list[str] = field(default_factory=list)


@dataclass
class Seeded:
    hr: str
    exams: dict[str, SeededExam]

    def as_dict(self) -> dict:
        return asdict(self)


def recreate_database(url: str) -> None:
    """Drop and create the (PostgreSQL) benchmark database: every run starts from nothing."""
    engine_url = sa.make_url(url)
    admin = sa.create_engine(engine_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{engine_url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{engine_url.database}"'))
    admin.dispose()


def _staff(username: str, role: str) -> User:
    user = User(username=username, display_name=username, role=role)
    user.set_password(STAFF_PASSWORD)
    db.session.add(user)
    return user


def _state_for(index: int) -> str:
    # By the row's place within its panel: every panel has waiting candidates to call.
    return (S.WAITING, S.CONFIRMED, S.WAITING, S.INVITED)[(index // PANELS_PER_EXAM) % 4]


def seed_exam(label: str, size: int, now) -> SeededExam:
    exam = Exam(
        name=f"压力测试 {label}（{size}人）",
        kind=ExamKind.FORMAL,
        login_opens_at=now - timedelta(hours=1),
        login_closes_at=now + timedelta(hours=8),
    )
    db.session.add(exam)
    db.session.flush()
    chief = _staff(f"chief-{label}", Role.EXAMINER)
    assistant = _staff(f"assistant-{label}", Role.ASSISTANT)
    panels, chiefs, assistants = [], [], []
    for n in range(PANELS_PER_EXAM):
        panel = create_panel(exam, f"第{n + 1}考场")
        examiner = chief if n == 0 else _staff(f"examiner-{label}-{n}", Role.EXAMINER)
        helper = assistant if n == 0 else _staff(f"assistant-{label}-{n}", Role.ASSISTANT)
        db.session.flush()
        set_panel_staff(panel, [examiner], [helper], examiner)
        panels.append(panel)
        chiefs.append(examiner.username)
        assistants.append(helper.username)
    for position, title in enumerate(("考生须知", "面试纪律")):
        db.session.add(Notice(exam_id=exam.id, title=title, body="请仔细阅读。", position=position))
    db.session.add(
        Broadcast(
            exam_id=exam.id, panel_id=None, message="面试即将开始，请保持页面打开。", created_at=now
        )
    )
    codes = allocate_codes(exam, size)
    rows, lots = [], {p.id: 0 for p in panels}
    for i, code in enumerate(codes):
        panel = panels[i % PANELS_PER_EXAM]
        state = _state_for(i)
        row = {
            "exam_id": exam.id,
            "panel_id": panel.id,
            "name": f"考生{i:04d}",
            "id_number": f"1101051990{exam.id:02d}01{i:04d}",
            "phone": f"138{i:08d}",
            "position": f"岗位{i % 7 + 1}",
            "code": code,
            "state": state,
            "version": 1,
            "state_changed_at": now,
            "lot_number": None,
            "lot_assigned": False,
            "missed_calls": 0,
            "created_at": now,
            "confirmed_at": None,
            "debugged_at": None,
            "waiting_since": None,
            "identity_checked_at": None,
        }
        if state in (S.CONFIRMED, S.WAITING):
            row["confirmed_at"] = now - timedelta(minutes=50)
        if state == S.WAITING:
            lots[panel.id] += 1
            row.update(
                lot_number=lots[panel.id],
                debugged_at=now - timedelta(minutes=30),
                identity_checked_at=now - timedelta(minutes=30),
                waiting_since=now - timedelta(minutes=20),
            )
        rows.append(row)
    ids = db.session.scalars(
        insert(Candidate).returning(Candidate.id, sort_by_parameter_order=True), rows
    ).all()
    return SeededExam(
        exam_id=exam.id,
        candidates=size,
        panel_ids=[p.id for p in panels],
        codes=[(row["code"], row["state"]) for row in rows],
        chief=chief.username,
        assistant=assistant.username,
        people=[(i, row["panel_id"]) for i, row in zip(ids, rows, strict=True)],
        chiefs=chiefs,
        assistants=assistants,
    )


def seed(sizes: dict[str, int]) -> Seeded:
    """Migrate the (empty) database to head and fill it; inside an app context."""
    upgrade()
    now = utcnow()
    hr = _staff("hr-bench", Role.HR)
    exams = {label: seed_exam(label, size, now) for label, size in sizes.items()}
    db.session.commit()
    return Seeded(hr=hr.username, exams=exams)
