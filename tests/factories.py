"""The test data factories: one place for the users, exams, panels, candidates and the `World`
(an exam about to start) that tests build on. Fixtures stay in conftest.py.

gen_* add one row each and commit (CTFd's gen_* helpers); World builds the common scene.
"""

from datetime import timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app import db
from app.journey import Actor, perform
from app.models import Candidate, Exam, ExamKind, Notice, NoticeAck, Panel, PanelMember, Role, User
from app.setup.id_checks import id_number_problem
from app.setup.panels import create_panel
from app.timeutil import utcnow


def gen_user(username: str, role: str = Role.HR, password: str = "correct horse battery", **kw) -> User:
    user = User(username=username, display_name=kw.pop("display_name", username), role=role, **kw)
    # A cheap hash keeps the suite fast; production hashing is User.set_password (scrypt).
    user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
    db.session.add(user)
    db.session.commit()
    return user


def gen_exam(name: str = "2026年事业单位面试", kind: str = ExamKind.FORMAL, **kw) -> Exam:
    now = utcnow()
    exam = Exam(
        name=name,
        kind=kind,
        login_opens_at=kw.pop("login_opens_at", now - timedelta(hours=1)),
        login_closes_at=kw.pop("login_closes_at", now + timedelta(hours=8)),
        **kw,
    )
    db.session.add(exam)
    db.session.commit()
    return exam


def id_number(index: int, born: str = "19900101") -> str:
    base = f"110105{born}{index:03d}"
    return next(base + c for c in "0123456789X" if id_number_problem(base + c) is None)


def gen_candidate(exam, name="考生", *, code=None, position="综合管理", panel=None, **kw):
    index = kw.pop("index", None) or (db.session.scalar(sa.select(sa.func.count(Candidate.id))) + 1)
    candidate = Candidate(
        exam_id=exam.id,
        name=name,
        id_number=kw.pop("id_number", id_number(index)),
        phone=kw.pop("phone", f"138{index:08d}"),
        position=position,
        code=code or f"{100000 + index:06d}",
        panel_id=panel.id if panel is not None else None,
        **kw,
    )
    db.session.add(candidate)
    db.session.commit()
    return candidate


def gen_panel(exam, name="第一考场"):
    panel = create_panel(exam, name)
    db.session.commit()
    return panel


class World:
    """An exam about to start: one panel, its chief and assistant, candidates, one notice."""

    def __init__(self, candidates=3, **exam_kw):
        self.now = utcnow().replace(microsecond=0)
        self.exam = gen_exam(
            entry_cutoff_at=exam_kw.pop("entry_cutoff_at", self.now + timedelta(minutes=30)),
            confirm_deadline_at=exam_kw.pop("confirm_deadline_at", self.now + timedelta(minutes=20)),
            **exam_kw,
        )
        self.chief = gen_user("chief", role=Role.EXAMINER)
        self.examiner = gen_user("examiner2", role=Role.EXAMINER)
        self.assistant = gen_user("assistant", role=Role.ASSISTANT)
        self.hr = gen_user("hr", role=Role.HR)
        self.panel = Panel(exam_id=self.exam.id, name="第一考场", interview_room="ir-e1-aaaa",
                           rest_room="ir-e1-bbbb", rest_room_code="999999", chief_examiner_id=self.chief.id)
        db.session.add(self.panel)
        db.session.flush()
        db.session.add_all([
            PanelMember(panel_id=self.panel.id, user_id=self.chief.id, role="examiner"),
            PanelMember(panel_id=self.panel.id, user_id=self.examiner.id, role="examiner"),
            PanelMember(panel_id=self.panel.id, user_id=self.assistant.id, role="assistant"),
        ])
        self.notice = Notice(exam_id=self.exam.id, title="考生须知", body="...")
        db.session.add(self.notice)
        self.candidates = []
        for i in range(candidates):
            c = Candidate(exam_id=self.exam.id, panel_id=self.panel.id, name=f"考生{i}",
                          id_number=f"1101051990010100{i:02d}", phone="13800138000",
                          position="综合管理岗", code=f"{100000 + i}")
            db.session.add(c)
            self.candidates.append(c)
        db.session.commit()

    def other_panel(self, chief_username: str) -> Panel:
        """A second panel of the exam whose chief (a new examiner) is `chief_username`."""
        other = Panel(exam_id=self.exam.id, name="第二考场", interview_room="ir-e1-cccc",
                      rest_room="ir-e1-dddd", rest_room_code="888888")
        db.session.add(other)
        db.session.flush()
        outsider = gen_user(chief_username, role=Role.EXAMINER)
        other.chief_examiner_id = outsider.id
        db.session.add(PanelMember(panel_id=other.id, user_id=outsider.id, role="examiner"))
        db.session.commit()
        return other

    def as_candidate(self, c):
        return Actor.of_candidate(c)

    def read_notices(self, c):
        db.session.add(NoticeAck(notice_id=self.notice.id, candidate_id=c.id))
        db.session.commit()

    def to_debug_waiting(self, c, at=None):
        at = at or self.now
        me = self.as_candidate(c)
        perform(c.id, "confirm", me, at)
        self.read_notices(c)
        return perform(c.id, "enter_debug", me, at)

    def to_waiting(self, c, at=None):
        at = at or self.now
        me = self.as_candidate(c)
        self.to_debug_waiting(c, at)
        perform(c.id, "call_debug", Actor.staff(self.assistant), at)
        perform(c.id, "accept_debug", me, at + timedelta(seconds=5))
        perform(c.id, "check_identity", Actor.staff(self.assistant), at + timedelta(seconds=30))
        perform(c.id, "mark_debugged", Actor.staff(self.assistant), at + timedelta(seconds=60))
        return perform(c.id, "enter_waiting", me, at + timedelta(seconds=90))
