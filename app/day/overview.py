"""HR's live overview of one exam, and one candidate's timeline from the audit log.

The overview is read every few seconds by every HR browser during an exam of thousands of
candidates, so it costs a constant number of queries whatever the size: the candidates in one
query, then one GROUP BY per kind of count (calls, violations, help, suspected switches),
merged in Python. Nothing here may touch a lazy relationship per row.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select

from app import db
from app.day.signals import SWITCH_KIND, signal_words
from app.models import (
    AuditEvent,
    Call,
    Candidate,
    Exam,
    HelpRequest,
    Panel,
    Role,
    ScoreDimension,
    User,
    Violation,
)
from app.models.candidate import STATE_LABELS, CandidateState
from app.models.staff import ROLE_LABELS
from app.security import code_alerts
from app.timeutil import format_beijing

CODE_REFUSED_KIND = "candidate.code_refused"
CODE_WINDOW_MINUTES = 5
DEFAULT_CODE_ALERT_THRESHOLD = (
    30  # as app.security.code_alerts: CODE_FAILURE_ALERT_THRESHOLD overrides
)


@dataclass
class Row:
    """One candidate's line in the overview."""

    candidate: Candidate
    panel_name: str | None
    calls: int = 0
    last_called_at: datetime | None = None
    lapsed_calls: int = 0
    violations: dict[str, int] = field(default_factory=dict)
    help_total: int = 0
    help_open: int = 0
    help_unreplied: int = 0
    switches: int = 0
    last_switch_at: datetime | None = None

    @property
    def violation_count(self) -> int:
        return sum(self.violations.values())

    @property
    def missed_calls(self) -> int:
        return self.candidate.missed_calls

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.violation_count or self.switches or self.help_unreplied or self.missed_calls
        )


@dataclass
class Overview:
    exam: Exam
    rows: list[Row]
    by_state: dict[str, int]
    panels: list[tuple[int, str]]
    code_alert: dict


def _candidate_rows_version(exam_id: int) -> str:
    """One aggregate over the exam's candidate rows: any UPDATE of a row bumps its `version`
    (compare-and-set), an import raises the highest id, a removal lowers the count."""
    count, versions, last_id = db.session.execute(
        select(
            func.count(Candidate.id),
            func.coalesce(func.sum(Candidate.version), 0),
            func.coalesce(func.max(Candidate.id), 0),
        ).where(Candidate.exam_id == exam_id)
    ).one()
    return f"{count}-{versions}-{last_id}"


def overview_version(exam_id: int) -> str:
    """What the polled table compares before building anything: two cheap aggregates.

    Every state change, call, help request, reply, flag and switch report writes an audit event
    for the exam, and every change of a candidate row bumps its version.
    """
    last_event = db.session.scalar(
        select(func.coalesce(func.max(AuditEvent.id), 0)).where(AuditEvent.exam_id == exam_id)
    )
    return f"o{exam_id}-{_candidate_rows_version(exam_id)}-{last_event}"


def candidate_list_version(exam_id: int, panels: list[Panel]) -> str:
    """The HR live list's version: it shows candidate rows and their panels' names only."""
    names = hashlib.sha1(repr([(p.id, p.name) for p in panels]).encode()).hexdigest()[:10]
    return f"l{exam_id}-{_candidate_rows_version(exam_id)}-{names}"


def build_overview(
    exam: Exam,
    now: datetime,
    *,
    panel_id: int | None = None,
    state: str | None = None,
    attention_only: bool = False,
    code_alert: dict | None = None,
) -> Overview:
    """Every candidate of the exam (or of one panel / state) with their counts; see module doc."""
    in_scope = Candidate.exam_id == exam.id
    scoped = [in_scope]
    if panel_id is not None:
        scoped.append(Candidate.panel_id == panel_id)
    if state:
        scoped.append(Candidate.state == state)

    panels = [
        (pid, name)
        for pid, name in db.session.execute(
            select(Panel.id, Panel.name).where(Panel.exam_id == exam.id).order_by(Panel.name)
        )
    ]
    by_state = dict(
        db.session.execute(
            select(Candidate.state, func.count(Candidate.id))
            .where(in_scope)
            .group_by(Candidate.state)
        ).all()
    )
    rows: dict[int, Row] = {}
    for candidate, panel_name in db.session.execute(
        select(Candidate, Panel.name)
        .outerjoin(Panel, Panel.id == Candidate.panel_id)
        .where(*scoped)
        .order_by(Panel.name, Candidate.lot_number.is_(None), Candidate.lot_number, Candidate.id)
    ):
        rows[candidate.id] = Row(candidate=candidate, panel_name=panel_name)

    # Each aggregate joins back to the same candidate filter, so the database never gets a
    # list of thousands of ids and every count is one GROUP BY.
    def of_scope(query, column):
        return query.join(Candidate, Candidate.id == column).where(*scoped)

    for cid, calls, last_called, lapsed in db.session.execute(
        of_scope(
            select(
                Call.candidate_id,
                func.count(Call.id),
                func.max(Call.called_at),
                func.coalesce(func.sum(case((Call.outcome == "lapsed", 1), else_=0)), 0),
            ),
            Call.candidate_id,
        ).group_by(Call.candidate_id)
    ):
        row = rows.get(cid)
        if row is not None:
            row.calls, row.last_called_at, row.lapsed_calls = calls, last_called, lapsed

    for cid, kind, n in db.session.execute(
        of_scope(
            select(Violation.candidate_id, Violation.kind, func.count(Violation.id)),
            Violation.candidate_id,
        ).group_by(Violation.candidate_id, Violation.kind)
    ):
        if cid in rows:
            rows[cid].violations[kind] = n

    waiting_for_reply = HelpRequest.reply.is_(None) & HelpRequest.resolved_at.is_(None)
    for cid, total, still_open, unreplied in db.session.execute(
        of_scope(
            select(
                HelpRequest.candidate_id,
                func.count(HelpRequest.id),
                func.coalesce(func.sum(case((HelpRequest.resolved_at.is_(None), 1), else_=0)), 0),
                func.coalesce(func.sum(case((waiting_for_reply, 1), else_=0)), 0),
            ),
            HelpRequest.candidate_id,
        ).group_by(HelpRequest.candidate_id)
    ):
        if cid in rows:
            rows[cid].help_total, rows[cid].help_open, rows[cid].help_unreplied = (
                total,
                still_open,
                unreplied,
            )

    for cid, n, last in db.session.execute(
        of_scope(
            select(AuditEvent.candidate_id, func.count(AuditEvent.id), func.max(AuditEvent.at)),
            AuditEvent.candidate_id,
        )
        .where(AuditEvent.kind == SWITCH_KIND, AuditEvent.exam_id == exam.id)
        .group_by(AuditEvent.candidate_id)
    ):
        if cid in rows:
            rows[cid].switches, rows[cid].last_switch_at = n, last

    result = list(rows.values())
    if attention_only:
        result = [row for row in result if row.needs_attention]
    return Overview(
        exam=exam,
        rows=result,
        by_state=by_state,
        panels=panels,
        code_alert=code_alert if code_alert is not None else code_guess_alert(exam, now),
    )


# --- code guessing -------------------------------------------------------------------------------


def code_guess_alert(exam: Exam, now: datetime) -> dict:
    """Refused invitation codes in the last minutes, and whether that looks like guessing.

    Counted by the candidate pages' counters in Redis (app.security.code_alerts): this exam's
    refusals and, while its login window is open, those that matched no code (a wrong guess
    matches no code, but it is aimed at every live one).
    """
    threshold = int(
        current_app.config.get("CODE_FAILURE_ALERT_THRESHOLD", DEFAULT_CODE_ALERT_THRESHOLD)
    )
    failures = code_alerts.recent_failures(exam.id, minutes=CODE_WINDOW_MINUTES, now=now)
    return {
        "failures": failures,
        "minutes": CODE_WINDOW_MINUTES,
        "threshold": threshold,
        "alert": failures >= threshold,
    }


def recent_code_refusals(exam: Exam, now: datetime, minutes: int = CODE_WINDOW_MINUTES) -> int:
    """Refused codes in the audit log in the last `minutes` for this exam (or for no exam while
    its login window is open)."""
    concerns = AuditEvent.exam_id == exam.id
    if exam.login_open_at(now):
        concerns = concerns | AuditEvent.exam_id.is_(None)
    return db.session.execute(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.kind == CODE_REFUSED_KIND,
            AuditEvent.at >= now - timedelta(minutes=minutes),
            concerns,
        )
    ).scalar_one()


# --- one candidate's timeline ------------------------------------------------------------------

# What each audit kind means, for people reading a timeline; unknown kinds show as they are.
KIND_LABELS = {
    "candidate.login": "考生登录",
    "candidate.code_refused": "邀请码被拒",
    "candidate.notice_ack": "阅读考试附件（已阅）",
    "candidate.id_photo": "上传身份证照片",
    "candidate.id_photo_viewed": "助理查看身份证照片",
    "candidate.help": "考生求助",
    "candidate.suspected_switch": "疑似切屏",
    "candidate.taken_over": "在另一窗口登录（接管）",
    "help.replied": "工作人员回复求助",
    "help.resolved": "求助已关闭",
    "supervisor.assigned": "分配巡考",
    "supervisor.removed": "移除巡考",
    "violation.flagged": "违纪标记",
    "journey.confirm": "确认参加",
    "journey.decline": "放弃参加",
    "journey.expire_confirmation": "确认截止未确认（按放弃处理）",
    "journey.enter_debug": "进入调试等候",
    "journey.call_debug": "助理呼叫调试",
    "journey.cancel_debug_call": "取消调试呼叫",
    "journey.lapse_debug_call": "调试呼叫超时未接",
    "journey.accept_debug": "接受调试呼叫",
    "journey.check_identity": "身份已核验",
    "journey.end_debug": "结束调试通话",
    "journey.mark_debugged": "调试完毕",
    "journey.enter_waiting": "进入面试等待室",
    "journey.draw_lot": "抽签",
    "journey.lot_assigned": "系统分配签号",
    "journey.call_interview": "主考官呼叫面试",
    "journey.lapse_interview_call": "面试呼叫超时未接",
    "journey.accept_interview": "接受面试呼叫",
    "journey.send_back": "退回候考",
    "journey.start_timer": "开始计时",
    "journey.finish": "面试结束",
    "journey.enter_rest": "进入休息室",
    "journey.release": "放行离场",
    "journey.mark_absent": "入场截止前未进入调试（缺考）",
    "journey.mark_absent_in_debug": "入场截止后调试未完成、未进入等待室，记为缺考",
    "journey.mark_no_show": "呼叫未应答，主考官记为缺考",
    "journey.disqualify": "取消资格",
    "journey.reinstate": "考务恢复考试资格",
    "journey.reinterview": "平台故障重新面试",
    "journey.extend_interview": "平台故障延长面试",
    "journey.move_panel": "调整考场",
    "journey.undo_disqualification": "撤销取消资格",
    "journey.call_spot_check": "助理发起随机检查（视频连线）",
    "journey.call_back": "助理视频回呼",
    "journey.accept_spot_check": "接受助理视频连线",
    "journey.end_spot_check": "助理结束视频连线",
    "journey.lapse_spot_check": "助理视频连线超时未接",
    "spot_check.superseded": "助理视频连线因正式呼叫结束",
    "call.videoConferenceJoined": "进入视频通话",
    "call.videoConferenceLeft": "离开视频通话",
    "call.recordingStatusChanged": "录制状态变化",
    "call.errorOccurred": "通话出错",
    "call.participant_removed": "被主考官页面自动移出面试间",
    "score.published": "成绩公布",
    "score.seen_by_candidate": "考生查看成绩",
    # issue 16: the second camera as the staff pages see it (app/day/second_camera.py)
    "second_camera.joined": "工作人员页面看到辅机位加入通话",
    "second_camera.connected": "辅机位已连接（摄像头开启）",
    "second_camera.left": "辅机位已断开（离开通话）",
    "second_camera.video_off": "辅机位摄像头已关闭",
    "second_camera.silent": "辅机位已断开（长时间无响应）",
    "journey.verify_second_camera": "辅机位已核验（助理确认拍摄角度）",
    "call.participantJoined": "有人加入视频通话",
    "call.participantLeft": "有人离开视频通话",
    "call.readyToClose": "视频通话已关闭",
    "call.cameraError": "摄像头出错",
    "call.micError": "麦克风出错",
    "candidate.code_limited": "邀请码尝试过多，暂被限制",
    "candidate.code_regenerated": "考务重新生成邀请码",
    "candidate.panel_assigned": "分配考场",
    "score.submitted": "提交评分",
    "score.changed": "更正评分",
    "score.final_recomputed": "最终成绩重新计算",
    "score.corrected": "已公布成绩更正",
    "score.recused": "考官回避",
    "score.confirmed": "主考官确认成绩",
    # Exam-wide events (no candidate's timeline, but every audit kind has words).
    "broadcast.posted": "发布候考通知",
    "candidates.imported": "导入考生名单",
    "demo.seeded": "创建演示数据",
    "exam.created": "创建考试",
    "exam.updated": "修改考试设置",
    "exam.entry_closed": "立即截止入场",
    "notice.created": "添加考试附件",
    "notice.updated": "修改考试附件",
    "notice.deleted": "删除考试附件",
    "panel.created": "创建考场",
    "panel.renamed": "考场改名",
    "panel.staffed": "设置考场人员",
    "panel.rest_room_released": "休息室放行",
    "question_set.created": "添加题本",
    "question_set.updated": "修改题本",
    "question_set.deleted": "删除题本",
    "score_sheet.dimension_added": "添加评分要素",
    "score_sheet.dimension_changed": "修改评分要素",
    "score_sheet.dimension_removed": "删除评分要素",
    "score_sheet.reordered": "调整评分要素顺序",
    "score_sheet.usual_sheet_added": "添加常用评分表",
    "staff.created": "创建工作人员账号",
    "staff.updated": "修改工作人员账号",
    "staff.login": "工作人员登录",
    "staff.language_changed": "工作人员切换界面语言",
    "staff.login_failed": "工作人员登录失败",
    "staff.login_locked": "工作人员账号暂时锁定",
    "staff.login_unlocked": "解除工作人员账号锁定",
    "staff.logout": "工作人员退出",
}

# Shown on every line of the event already (time, actor) or meaningless to a reader.
HIDDEN_KEYS = {"before", "after"}


@dataclass
class TimelineEntry:
    event: AuditEvent
    label: str
    details: list[tuple[str, str]]
    change: tuple[str, str] | None
    actor: str = ""  # who, by name and role: "张老师（考官 examiner）", "考生本人", "系统"


ACTOR_TYPES = {"candidate": "考生本人", "system": "系统", "anonymous": "匿名"}


def _actor_words(event: AuditEvent, people: dict[int, User]) -> str:
    if event.actor_type == "staff" and event.actor_id in people:
        user = people[event.actor_id]
        return f"{user.display_name}（{ROLE_LABELS.get(Role(user.role), user.role)}）"
    return ACTOR_TYPES.get(event.actor_type or "", event.actor_label or event.actor_type or "")


def _examiner_name(data: dict, people: dict[int, User]) -> str:
    examiner = people.get(_as_int(data.get("examiner")) or 0)
    return examiner.display_name if examiner is not None else f"考官 #{data.get('examiner')}"


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _score_words(
    kind: str, data: dict, people: dict[int, User], dims: dict[int, str]
) -> str | None:
    """A score event in words: whose sheet, which dimension, before -> after."""
    if kind == "score.submitted":
        paper = "（考务据纸质评分表录入）" if data.get("paper") else ""
        return f"提交评分：{_examiner_name(data, people)}，合计 {data.get('total')}{paper}"
    if kind == "score.changed":
        before, after = data.get("before") or {}, data.get("after") or {}
        changes = [
            f"{dims.get(_as_int(key) or 0, f'评分要素 #{key}')} {before.get(key, '—')} → {value}"
            for key, value in after.items()
            if str(before.get(key)) != str(value)
        ]
        paper = "（考务据纸质评分表录入）" if data.get("paper") else ""
        what = "；".join(changes) or "数值未变"
        return f"更正评分{paper}：{_examiner_name(data, people)}：{what}"
    if kind in ("score.final_recomputed", "score.corrected"):
        tail = "，考生须重新确认" if kind == "score.corrected" else ""
        return f"{KIND_LABELS[kind]}：{data.get('before')} → {data.get('after')}{tail}"
    if kind == "score.recused":
        return f"考官回避：{_examiner_name(data, people)}"
    if kind == "score.confirmed":
        published = "，已公布" if data.get("published") else "，待考务公布"
        return f"主考官确认成绩：{data.get('final')}{published}"
    return None


def _state_label(value) -> str:
    try:
        return STATE_LABELS[CandidateState(value)]
    except ValueError:
        return str(value)


def _when(value) -> str:
    """An audited moment (stored as text) in Beijing time."""
    try:
        return format_beijing(datetime.fromisoformat(str(value)), "%H:%M:%S")
    except ValueError:
        return str(value)


def _voided(data: dict) -> str:
    voided = data.get("voided") or {}
    started = (voided.get("times") or {}).get("timer_started_at")
    parts = [f"原计时 {_when(started)} 起" if started else "原计时未开始"]
    parts.append(f"评分表 {len(voided.get('sheets') or [])} 份")
    result = voided.get("result")
    if result:
        parts.append(f"已确认成绩 {result.get('final_score')}")
    return "，".join(parts) + "，均已作废（原记录保存在审计日志中）；排在本考场候考队列首位"


def _override_words(kind: str, data: dict) -> str | None:
    """An override's line in words: what was done, with its minutes, panels and lot."""
    lot = f"；签号 {data['lot']}（排在已抽签者之后）" if data.get("lot") else ""
    if kind == "journey.reinstate":
        return f"考务恢复考试资格，回到“{_state_label(data.get('after'))}”{lot}"
    if kind == "journey.reinterview":
        return f"平台故障重新面试：{_voided(data)}"
    if kind == "journey.extend_interview":
        until = f"，结束时间改为 {_when(data['until'])}" if data.get("until") else ""
        return f"平台故障延长面试 {data.get('minutes')} 分钟{until}"
    if kind == "journey.move_panel":
        return f"调整考场：{data.get('from_panel') or '—'} → {data.get('to_panel')}{lot}"
    if kind == "journey.undo_disqualification":
        return f"撤销取消资格，回到“{_state_label(data.get('after'))}”{lot}"
    return None


SPOT_CHECK_WORDS = {"spot_check": "随机检查", "call_back": "视频回呼"}
SPOT_CHECK_OUTCOMES = {
    "journey.call_spot_check": "面试助理发起，等待考生接受",
    "journey.call_back": "面试助理发起，等待考生接受",
    "journey.accept_spot_check": "考生已接受（通话中）",
    "journey.end_spot_check": "面试助理已结束通话",
    "journey.lapse_spot_check": "考生未在规定时间内接受（超时）",
}
SUPERSEDED_BY = {"interview": "主考官呼叫面试", "debug": "助理呼叫调试"}


def _spot_check_words(kind: str, data: dict) -> str | None:
    """A spot check's or call-back's line: which of the two, and its outcome."""
    what = SPOT_CHECK_WORDS.get(str(data.get("call_kind")), "视频连线")
    if kind in SPOT_CHECK_OUTCOMES:
        return f"{what}（助理视频连线）：{SPOT_CHECK_OUTCOMES[kind]}"
    if kind == "spot_check.superseded":
        by = SUPERSEDED_BY.get(str(data.get("by_call")), "正式呼叫")
        return f"{what}（助理视频连线）：因{by}而结束"
    return None


def timeline(candidate: Candidate) -> list[TimelineEntry]:
    """Every audit event about the candidate, oldest first (the log is append-only)."""
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.candidate_id == candidate.id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
    people = _people_of(events)
    dims = dict(
        db.session.execute(
            select(ScoreDimension.id, ScoreDimension.name).where(
                ScoreDimension.exam_id == candidate.exam_id
            )
        ).all()
    )
    entries = []
    for event in events:
        data = event.data or {}
        label = KIND_LABELS.get(event.kind, event.kind)
        words = (
            _override_words(event.kind, data)
            or _spot_check_words(event.kind, data)
            or _score_words(event.kind, data, people, dims)
        )
        change = None
        # A change of state (before/after are states); a score's values are told in its words.
        if (
            _score_words(event.kind, data, people, dims) is None
            and isinstance(data.get("before"), str)
            and isinstance(data.get("after"), str)
            and data["before"] != data["after"]
        ):
            change = (_state_label(data["before"]), _state_label(data["after"]))
        signal = signal_words(event.kind, data)
        if words is not None:
            # The line says it all; the full values (a voided attempt) stay in the audit log.
            label = words
            details = [("原因 reason", str(data["reason"]))] if data.get("reason") else []
        elif signal is not None:
            # 疑似切屏 5 秒 / 多端登录: the line says it; the stage it happened in is the detail.
            label = signal
            details = [("state", _state_label(data["state"]))] if data.get("state") else []
        else:
            details = [
                (key, _state_label(value) if key == "state" else _compact(value))
                for key, value in data.items()
                if key not in HIDDEN_KEYS and value not in (None, "", {}, []) and value != label
            ]
        entries.append(
            TimelineEntry(
                event=event,
                label=label,
                details=details,
                change=change,
                actor=_actor_words(event, people),
            )
        )
    return entries


def _people_of(events: list[AuditEvent]) -> dict[int, User]:
    """The staff an event names (its actor, the examiner whose sheet it is), in one query."""
    ids = {e.actor_id for e in events if e.actor_type == "staff" and e.actor_id is not None}
    for e in events:
        for key in ("examiner", "on_behalf_of"):
            value = _as_int((e.data or {}).get(key))
            if value is not None:
                ids.add(value)
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


TIMELINE_HEADER = ["时间(北京时间)", "事件", "类型", "操作人", "状态变化", "详情"]


def timeline_rows(entries: list[TimelineEntry]) -> list[list[str]]:
    """The timeline as rows under TIMELINE_HEADER, for the CSV download."""
    return [
        [
            format_beijing(entry.event.at, "%Y-%m-%d %H:%M:%S"),
            entry.label,
            entry.event.kind,
            entry.actor,
            f"{entry.change[0]} → {entry.change[1]}" if entry.change else "",
            "; ".join(f"{k}: {v}" for k, v in entry.details),
        ]
        for entry in entries
    ]


def _compact(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
