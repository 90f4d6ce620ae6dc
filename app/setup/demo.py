"""Demo data for `make run` and `flask seed-demo`: enough to walk a candidate from code to release.

The exams' login windows opened 40 minutes ago and last a month, so the demo works whenever it
is seeded. Passwords are fixed and printed: this is for trying the product, never for an exam day
(seed-demo refuses to touch a database that already has staff or exams).
"""

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app import audit, db
from app.models import (
    Candidate,
    Exam,
    ExamKind,
    ExamSupervisor,
    Notice,
    QuestionSet,
    Role,
    ScoreDimension,
    User,
)
from app.setup.codes import allocate_codes
from app.setup.exams import derive_schedule
from app.setup.id_checks import id_number_problem
from app.setup.panels import create_panel, set_panel_staff
from app.timeutil import utcnow


class DemoExists(RuntimeError):
    pass


DEMO_STAFF = [
    ("admin", "系统管理员", Role.ADMIN, "admin-demo-2026"),
    ("hr", "考务 王老师", Role.HR, "hr-demo-2026"),
    ("assistant1", "面试助理 李老师", Role.ASSISTANT, "assistant-demo-2026"),
    ("chief1", "主考官 张老师", Role.EXAMINER, "examiner-demo-2026"),
    ("examiner2", "考官 刘老师", Role.EXAMINER, "examiner-demo-2026"),
    ("examiner3", "考官 陈老师", Role.EXAMINER, "examiner-demo-2026"),
    ("examiner4", "考官 杨老师", Role.EXAMINER, "examiner-demo-2026"),
    ("examiner5", "考官 赵老师", Role.EXAMINER, "examiner-demo-2026"),
    # 第二考场 of the formal exam: it hears the same exam-wide 题本 A, so neither panel's rest
    # room may release anyone while the other still has candidates to interview.
    ("assistant2", "面试助理 周老师", Role.ASSISTANT, "assistant-demo-2026"),
    ("chief2", "主考官 孙老师", Role.EXAMINER, "examiner-demo-2026"),
    ("examiner6", "考官 吴老师", Role.EXAMINER, "examiner-demo-2026"),
    ("examiner7", "考官 郑老师", Role.EXAMINER, "examiner-demo-2026"),
    # 巡考 of the formal exam: watches both panels read-only, joins calls as "巡考 钱老师".
    ("patrol1", "钱老师", Role.SUPERVISOR, "patrol-demo-2026"),
]

DEMO_NAMES = [
    "王晓明",
    "李婷",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄丽",
    "周杰",
    "吴敏",
    "徐刚",
    "孙悦",
    "马超",
    "朱琳",
    "胡斌",
    "郭佳",
    "何平",
    "高原",
]

SCORE_SHEET = [
    ("综合分析能力", 20, "能从宏观和微观角度分析问题，观点明确、论证充分。"),
    ("计划组织协调能力", 20, "工作目标明确，计划周密，能合理调配资源。"),
    ("应变能力", 15, "情绪稳定，思维敏捷，处置得当。"),
    ("人际沟通能力", 15, "理解他人，有效沟通，处理好人际关系。"),
    ("言语表达能力", 20, "表达清晰流畅，用词准确，逻辑性强。"),
    ("举止仪表", 10, "着装得体，举止大方，符合岗位要求。"),
]

NOTICES = [
    (
        "考生须知",
        (
            "1. 请使用电脑版谷歌浏览器（Chrome），全程开启摄像头和麦克风。\n"
            "2. 面试环境应光线充足、封闭、安静，除考生本人外不得有其他人员在场。\n"
            "3. 面试过程中不得以任何方式向考官透露本人姓名等个人信息。"
        ),
    ),
    (
        "面试纪律",
        (
            "面试期间禁止切屏、截屏、离开座位、接打电话、与他人交流。\n"
            "休息室全程录制，请保持双手放在桌面上，直至工作人员通知离场。"
        ),
    ),
]

QUESTIONS = (
    "第一题：近年来，不少地方推出“一网通办”政务服务。对此，谈谈你的看法。\n\n"
    "第二题：单位要组织一次面向社区老年人的防诈骗宣传活动，由你负责，你会如何组织？\n\n"
    "第三题：你在窗口工作时，一位群众因材料不全无法办理业务而情绪激动，你会怎么处理？"
)
SCORING_GUIDE = (
    "第一题（综合分析）：好——辩证看待便民与数据安全，提出可行建议；中——观点明确但分析不够深入；"
    "差——观点偏颇或空泛。\n第二题（计划组织）：目标、对象、形式、分工、效果评估齐全为好。\n"
    "第三题（应变）：先安抚情绪，再解释政策，提供替代方案并跟进为好。"
)


def _demo_id_number(rng: random.Random, index: int) -> str:
    """A valid-looking but fictitious ID number (the check digit found by the validator itself)."""
    year = 1990 + index % 10
    base = f"110105{year}{1 + index % 12:02d}{1 + index % 27:02d}{rng.randrange(1000):03d}"
    for check in "0123456789X":
        candidate = base + check
        if id_number_problem(candidate) is None:
            return candidate
    raise AssertionError("no check digit fits")  # impossible: one of the eleven always does


def seed_demo() -> dict:
    if db.session.scalar(select(func.count(User.id))) or db.session.scalar(
        select(func.count(Exam.id))
    ):
        raise DemoExists(
            "the database already has staff or exams: the demo is only for an empty one"
        )
    rng = random.Random(2026)
    now = utcnow().replace(second=0, microsecond=0)

    staff = {}
    for username, display, role, password in DEMO_STAFF:
        user = User(username=username, display_name=display, role=role)
        user.set_password(password)
        db.session.add(user)
        staff[username] = user
    db.session.flush()

    # A schedule as an exam office writes it (开考时间, 提前45分钟登录, 开考前10分钟开放等待室, a
    # confirmation period days before), placed so that every step works at once, whenever the
    # demo is seeded: the login opened 40 minutes ago, the waiting rooms are already open. The
    # cut-off is a clock time a month away so that the demo keeps working; 立即截止入场 ends
    # entry when you want the chief to call.
    window = {
        "login_lead_minutes": 45,
        "waiting_opens_minutes": 10,
        "login_closes_at": now + timedelta(days=30),
        "entry_cutoff_at": now + timedelta(days=30),
        "confirm_opens_at": now - timedelta(days=3),
        "confirm_deadline_at": now + timedelta(days=29),
    }
    formal = Exam(
        name="2026年事业单位公开招聘结构化面试（演示）",
        kind=ExamKind.FORMAL,
        minutes_per_candidate=10,
        reading_minutes=0,
        starts_at=now + timedelta(minutes=10),
        **window,
    )
    # The mock shows 人脸核验 (app/faces/): the candidate uploads an ID photo, accepts the notice,
    # and her camera is compared in the debug call and every 15 s in the interview (README
    # "Face checks" feeds Chromium's fake camera from a face photo).
    mock = Exam(
        name="2026年事业单位公开招聘模拟面试（演示）",
        kind=ExamKind.MOCK,
        minutes_per_candidate=5,
        starts_at=now + timedelta(minutes=5),
        requires_id_photo=True,
        face_checks=True,
        face_check_purpose="核验考生本人身份，防止替考，并在面试和休息期间确认考生本人在镜头前。",
        face_check_interval_seconds=15,
        **window,
    )
    derive_schedule(formal)
    derive_schedule(mock)
    db.session.add_all([formal, mock])
    db.session.flush()
    mock.formal_exam_id = formal.id
    db.session.add(ExamSupervisor(exam_id=formal.id, user_id=staff["patrol1"].id))

    examiners = [
        staff[name] for name in ("chief1", "examiner2", "examiner3", "examiner4", "examiner5")
    ]
    second = [staff[name] for name in ("chief2", "examiner6", "examiner7")]
    candidates_out = []
    for exam, count, panel_name in ((formal, 12, "第一考场"), (mock, 6, "模拟考场")):
        panel = create_panel(exam, panel_name)
        set_panel_staff(panel, examiners, [staff["assistant1"]], staff["chief1"])
        panels = [(panel, count)]
        if exam is formal:
            panel_two = create_panel(exam, "第二考场")
            set_panel_staff(panel_two, second, [staff["assistant2"]], staff["chief2"])
            panels.append((panel_two, 4))
        for position, (title, body) in enumerate(NOTICES):
            db.session.add(Notice(exam_id=exam.id, title=title, body=body, position=position))
        db.session.add(
            QuestionSet(
                exam_id=exam.id, title="题本 A", body=QUESTIONS, scoring_guide=SCORING_GUIDE
            )
        )
        for position, (name, maximum, guidance) in enumerate(SCORE_SHEET):
            db.session.add(
                ScoreDimension(
                    exam_id=exam.id,
                    name=name,
                    max_score=Decimal(maximum),
                    guidance=guidance,
                    position=position,
                )
            )
        codes = allocate_codes(exam, sum(size for _, size in panels))
        seats = [p for p, size in panels for _ in range(size)]
        for index, seat in enumerate(seats):
            candidate = Candidate(
                exam_id=exam.id,
                panel_id=seat.id,
                name=DEMO_NAMES[index % len(DEMO_NAMES)],
                id_number=_demo_id_number(rng, index),
                phone=f"139{rng.randrange(10**8):08d}",
                position="综合管理岗" if index % 3 else "信息技术岗",
                code=codes[index],
            )
            db.session.add(candidate)
            candidates_out.append((candidate, seat.name))
    db.session.flush()
    audit.record("demo.seeded", exams=[formal.id, mock.id])
    db.session.commit()
    return {
        "exams": [{"id": e.id, "name": e.name, "kind": e.kind} for e in (formal, mock)],
        "staff": [{"username": u, "password": p, "role": r.value} for u, _, r, p in DEMO_STAFF],
        "candidates": [
            {"name": c.name, "code": c.code, "exam_id": c.exam_id, "panel": panel_name}
            for c, panel_name in candidates_out
        ],
    }
