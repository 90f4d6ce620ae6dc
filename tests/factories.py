"""The test data factories: one place for the users, exams, panels, candidates and the `World`
(an exam about to start) that tests build on. Fixtures stay in conftest.py.

gen_* add one row each and commit (CTFd's gen_* helpers); World builds the common scene.
"""

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app import db
from app.day.controls import close_entry_now
from app.jitsi.rooms import new_room_name
from app.journey import Actor, perform
from app.models import (
    Call,
    Candidate,
    Exam,
    ExamKind,
    Notice,
    NoticeAck,
    Panel,
    PanelMember,
    QuestionSet,
    Role,
    ScoreDimension,
    User,
)
from app.models.candidate import CandidateState as S
from app.setup.codes import allocate_codes
from app.setup.id_checks import id_number_problem
from app.setup.panels import create_panel, set_panel_staff
from app.timeutil import utcnow

PASSWORD = "correct horse battery"

NOTICES = [
    ("考生须知", "请使用电脑版谷歌浏览器（Chrome），全程开启摄像头和麦克风。"),
    ("面试纪律", "面试期间禁止切屏、截屏、离开座位。"),
]
SHEET = [("综合分析能力", 40), ("言语表达能力", 30), ("举止仪表", 30)]
QUESTIONS = "第一题：谈谈你对“一网通办”的看法。\n第二题：如何组织一次社区防诈骗宣传活动？"

# Fictitious numbers with valid check digits (GB 11643), as app/setup/demo.py makes them.
ID_NUMBERS = [
    "11010519900101001X",
    "110105199102020026",
    "110105199203030034",
    "110105199304040042",
]

# The call tests' candidate: name, ID number and mobile, none of which may reach a token or a
# call page's data.
PERSONAL = ("张三丰", "110105199003071234", "13912345678")


def gen_user(
    username: str, role: str = Role.HR, password: str = "correct horse battery", **kw
) -> User:
    user = User(username=username, display_name=kw.pop("display_name", username), role=role, **kw)
    # A cheap hash keeps the suite fast; production hashing is User.set_password (scrypt).
    user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
    db.session.add(user)
    db.session.commit()
    return user


def gen_exam(name: str = "2026年事业单位面试", kind: str = ExamKind.FORMAL, **kw) -> Exam:
    now = utcnow()
    login_opens_at = kw.pop("login_opens_at", now - timedelta(hours=1))
    exam = Exam(
        name=name,
        kind=kind,
        login_opens_at=login_opens_at,
        login_closes_at=kw.pop("login_closes_at", now + timedelta(hours=8)),
        # As the migration sets it for exams from before the schedule (nothing gates on it
        # unless waiting_opens_minutes is given).
        starts_at=kw.pop("starts_at", login_opens_at),
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
    """An exam about to start: one panel, its chief and assistant, candidates, one notice.

    `World()` is the journey's scene; `World.for_calls()` the call tests' (real room names, a
    second panel with an assistant of its own, candidates on demand); `World.for_browser()` the
    browser tests' (five examiners, notices, a question set and a score sheet, codes allocated).
    """

    def __init__(self, candidates=3, **exam_kw):
        self.now = utcnow().replace(microsecond=0)
        self.exam = gen_exam(
            entry_cutoff_at=exam_kw.pop("entry_cutoff_at", self.now + timedelta(minutes=30)),
            confirm_deadline_at=exam_kw.pop(
                "confirm_deadline_at", self.now + timedelta(minutes=20)
            ),
            **exam_kw,
        )
        self.chief = gen_user("chief", role=Role.EXAMINER)
        self.examiner = gen_user("examiner2", role=Role.EXAMINER)
        self.assistant = gen_user("assistant", role=Role.ASSISTANT)
        self.hr = gen_user("hr", role=Role.HR)
        self.panel = Panel(
            exam_id=self.exam.id,
            name="第一考场",
            interview_room="ir-e1-aaaa",
            rest_room="ir-e1-bbbb",
            rest_room_code="999999",
            chief_examiner_id=self.chief.id,
        )
        db.session.add(self.panel)
        db.session.flush()
        db.session.add_all(
            [
                PanelMember(panel_id=self.panel.id, user_id=self.chief.id, role="examiner"),
                PanelMember(panel_id=self.panel.id, user_id=self.examiner.id, role="examiner"),
                PanelMember(panel_id=self.panel.id, user_id=self.assistant.id, role="assistant"),
            ]
        )
        self.notice = Notice(exam_id=self.exam.id, title="考生须知", body="...")
        db.session.add(self.notice)
        self.candidates = []
        for i in range(candidates):
            c = Candidate(
                exam_id=self.exam.id,
                panel_id=self.panel.id,
                name=f"考生{i}",
                id_number=f"1101051990010100{i:02d}",
                phone="13800138000",
                position="综合管理岗",
                code=f"{100000 + i}",
            )
            db.session.add(c)
            self.candidates.append(c)
        db.session.commit()

    def add_other_panel(self, chief_username: str) -> Panel:
        """A second panel of the exam whose chief (a new examiner) is `chief_username`."""
        other = Panel(
            exam_id=self.exam.id,
            name="第二考场",
            interview_room="ir-e1-cccc",
            rest_room="ir-e1-dddd",
            rest_room_code="888888",
        )
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

    @classmethod
    def for_calls(cls, requires_second_camera: bool = False) -> "World":
        """One exam, two panels with real room names, their staff, and candidates on demand."""
        self = cls.__new__(cls)
        self.now = utcnow().replace(microsecond=0)
        self.exam = gen_exam(
            entry_cutoff_at=self.now + timedelta(minutes=30),
            requires_second_camera=requires_second_camera,
        )
        self.chief = gen_user("chief", role=Role.EXAMINER, display_name="主考官")
        self.examiner = gen_user("examiner2", role=Role.EXAMINER, display_name="考官 2")
        self.assistant = gen_user("assistant", role=Role.ASSISTANT, display_name="面试助理 李")
        self.outsider = gen_user("outsider", role=Role.ASSISTANT, display_name="别组助理")
        self.hr = gen_user("hr", role=Role.HR)
        self.panel = self._panel("第一考场", "999999", self.chief)
        self.other_panel = self._panel("第二考场", "999998", None)
        db.session.add_all(
            [
                PanelMember(panel_id=self.panel.id, user_id=self.chief.id, role="examiner"),
                PanelMember(panel_id=self.panel.id, user_id=self.examiner.id, role="examiner"),
                PanelMember(panel_id=self.panel.id, user_id=self.assistant.id, role="assistant"),
                PanelMember(
                    panel_id=self.other_panel.id, user_id=self.outsider.id, role="assistant"
                ),
            ]
        )
        db.session.commit()
        return self

    def _panel(self, name, rest_code, chief):
        panel = Panel(
            exam_id=self.exam.id,
            name=name,
            interview_room=new_room_name("ir-e1"),
            rest_room=new_room_name("ir-e1"),
            rest_room_code=rest_code,
            chief_examiner_id=chief.id if chief else None,
        )
        db.session.add(panel)
        db.session.flush()
        return panel

    def candidate(self, state=S.WAITING, lot=7, **kw) -> Candidate:
        c = Candidate(
            exam_id=self.exam.id,
            panel_id=self.panel.id,
            name=PERSONAL[0],
            id_number=kw.pop("id_number", PERSONAL[1]),
            phone=PERSONAL[2],
            position="综合管理岗",
            code=f"{100000 + lot}",
            state=state,
            lot_number=lot,
            **kw,
        )
        db.session.add(c)
        db.session.commit()
        return c

    def interviewing(self, lot=7) -> Candidate:
        """In the interview room, the countdown running with 8 minutes left."""
        c = self.candidate(
            S.INTERVIEWING,
            lot,
            reading_started_at=self.now - timedelta(minutes=2),
            timer_started_at=self.now - timedelta(minutes=2),
            deadline_at=self.now + timedelta(minutes=8),
        )
        db.session.add(
            Call(
                candidate_id=c.id,
                panel_id=self.panel.id,
                kind="interview",
                room=self.panel.interview_room,
                called_at=self.now - timedelta(minutes=3),
                accept_by=self.now - timedelta(minutes=2),
                accepted_at=self.now - timedelta(minutes=2, seconds=30),
                outcome="accepted",
            )
        )
        db.session.commit()
        return c

    @classmethod
    def for_browser(
        cls,
        *,
        candidates: int = 2,
        minutes_per_candidate: int = 10,
        reading_minutes: int = 0,
        login_opens_in: timedelta = -timedelta(hours=1),
        login_closes_in: timedelta = timedelta(hours=8),
        entry_cutoff_in: timedelta = timedelta(hours=4),
    ) -> "World":
        """tests/e2e's exam (tests/e2e/world.py): its login window placed around now."""
        now = utcnow()
        gen_user("hr", Role.HR, display_name="考务 王老师")
        assistant = gen_user("assistant1", Role.ASSISTANT, display_name="面试助理 李老师")
        chief = gen_user("chief1", Role.EXAMINER, display_name="主考官 张老师")
        others = [
            gen_user(f"examiner{i}", Role.EXAMINER, display_name=f"考官 {name}老师")
            for i, name in zip(range(2, 6), "刘陈杨赵", strict=True)
        ]
        exam = Exam(
            name="2026年事业单位公开招聘结构化面试",
            kind=ExamKind.FORMAL,
            login_opens_at=now + login_opens_in,
            login_closes_at=now + login_closes_in,
            entry_cutoff_at=now + entry_cutoff_in,
            confirm_deadline_at=now + timedelta(hours=3),
            minutes_per_candidate=minutes_per_candidate,
            reading_minutes=reading_minutes,
            call_accept_seconds=120,
            publish_mode="instant",
        )
        db.session.add(exam)
        db.session.flush()
        panel = create_panel(exam, "第一考场")
        set_panel_staff(panel, [chief, *others], [assistant], chief)
        notices = []
        for position, (title, body) in enumerate(NOTICES):
            notice = Notice(exam_id=exam.id, title=title, body=body, position=position)
            db.session.add(notice)
            notices.append(notice)
        db.session.add(
            QuestionSet(
                exam_id=exam.id,
                title="题本 A",
                body=QUESTIONS,
                scoring_guide="第一题：辩证分析为好。",
            )
        )
        for position, (name, maximum) in enumerate(SHEET):
            db.session.add(
                ScoreDimension(
                    exam_id=exam.id,
                    name=name,
                    max_score=Decimal(maximum),
                    guidance="",
                    position=position,
                )
            )
        codes = allocate_codes(exam, candidates)
        people = []
        for index in range(candidates):
            person = Candidate(
                exam_id=exam.id,
                panel_id=panel.id,
                name=(["王晓明", "李婷", "张伟", "刘洋"] + [f"考生{n}" for n in range(4, 20)])[
                    index
                ],
                id_number=(ID_NUMBERS + [f"1101051990010{n:04d}" for n in range(4, 20)])[index],
                phone=f"1390000{index:04d}",
                position="综合管理岗",
                code=codes[index],
            )
            db.session.add(person)
            people.append(person)
        db.session.commit()
        self = cls.__new__(cls)
        self.now, self.exam, self.panel, self.assistant, self.chief = (
            now,
            exam,
            panel,
            assistant,
            chief,
        )
        self.examiners, self.candidates, self.notices = [chief, *others], people, notices
        return self


def move_entry_cutoff_to_now(exam_id: int) -> None:
    """HR's 截止入场 on the exam day (app.day.controls): the lot order is final, so the chief may
    call (the journey refuses calls before the cut-off); whoever is not in is absent."""
    db.session.rollback()
    hr = db.session.scalar(sa.select(User).where(User.username == "hr"))
    close_entry_now(exam_id, hr)
