"""The exam the browser tests walk through, seeded with the app's own functions.

One formal exam whose login window is open now, one panel (interview room, rest room, rest-room
code) with an assistant, a chief examiner and four more examiners, an HR officer, two notices, a question set,
a score sheet and a few candidates. The server's real clock runs the test: windows are placed
around `utcnow()`, and the countdown uses a short `minutes_per_candidate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app import db
from app.setup.codes import allocate_codes
from app.day.controls import close_entry_now
from app.models import Candidate, Exam, ExamKind, Notice, QuestionSet, Role, ScoreDimension, User
from app.setup.panels import create_panel, set_panel_staff
from app.timeutil import utcnow
from tests.factories import gen_user

PASSWORD = "correct horse battery"

NOTICES = [
    ("考生须知", "请使用电脑版谷歌浏览器（Chrome），全程开启摄像头和麦克风。"),
    ("面试纪律", "面试期间禁止切屏、截屏、离开座位。"),
]
SHEET = [("综合分析能力", 40), ("言语表达能力", 30), ("举止仪表", 30)]
QUESTIONS = "第一题：谈谈你对“一网通办”的看法。\n第二题：如何组织一次社区防诈骗宣传活动？"

# Fictitious numbers with valid check digits (GB 11643), as app/setup/demo.py makes them.
ID_NUMBERS = ["11010519900101001X", "110105199102020026", "110105199203030034",
              "110105199304040042"]


@dataclass
class World:
    exam: Exam
    panel: object
    assistant: object
    chief: object
    examiners: list  # the chief first, then four more
    candidates: list[Candidate]
    notices: list[Notice]


def seed(*, candidates: int = 2, minutes_per_candidate: int = 10, reading_minutes: int = 0,
         login_opens_in: timedelta = -timedelta(hours=1),
         login_closes_in: timedelta = timedelta(hours=8),
         entry_cutoff_in: timedelta = timedelta(hours=4)) -> World:
    now = utcnow()
    gen_user("hr", Role.HR, display_name="考务 王老师")
    assistant = gen_user("assistant1", Role.ASSISTANT, display_name="面试助理 李老师")
    chief = gen_user("chief1", Role.EXAMINER, display_name="主考官 张老师")
    others = [gen_user(f"examiner{i}", Role.EXAMINER, display_name=f"考官 {name}老师")
              for i, name in zip(range(2, 6), "刘陈杨赵", strict=True)]
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
    db.session.add(QuestionSet(exam_id=exam.id, title="题本 A", body=QUESTIONS,
                               scoring_guide="第一题：辩证分析为好。"))
    for position, (name, maximum) in enumerate(SHEET):
        db.session.add(ScoreDimension(exam_id=exam.id, name=name, max_score=Decimal(maximum),
                                      guidance="", position=position))
    codes = allocate_codes(exam, candidates)
    people = []
    for index in range(candidates):
        person = Candidate(
            exam_id=exam.id, panel_id=panel.id, name=["王晓明", "李婷", "张伟", "刘洋"][index],
            id_number=ID_NUMBERS[index], phone=f"1390000{index:04d}", position="综合管理岗",
            code=codes[index],
        )
        db.session.add(person)
        people.append(person)
    db.session.commit()
    return World(exam=exam, panel=panel, assistant=assistant, chief=chief,
                 examiners=[chief, *others], candidates=people, notices=notices)


def move_entry_cutoff_to_now(exam_id: int) -> None:
    """HR's 截止入场 on the exam day (app.day.controls): the lot order is final, so the chief may
    call (the journey refuses calls before the cut-off); whoever is not in is absent."""
    db.session.rollback()
    hr = db.session.scalar(select(User).where(User.username == "hr"))
    close_entry_now(exam_id, hr)
