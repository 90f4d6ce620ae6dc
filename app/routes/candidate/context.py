"""What the candidate's pages show: the stage page's and the polled fragment's context."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select

from app import db, journey
from app.day.clock import level_for
from app.day.poll import (
    STAGE_OF_STATE,
    ahead_in_queue,
    interview_phase,
    lot_assignment_due,
    poll_etag,
)
from app.day.poll_interval import FAST, poll_seconds
from app.day.schedule import login_window_open, start_of, waiting_open, waiting_opens_at
from app.faces import stills as face_stills
from app.models import (
    AuditEvent,
    Broadcast,
    Candidate,
    CandidateResult,
    HelpRequest,
    Notice,
    NoticeAck,
    QuestionSet,
)
from app.models.candidate import FINAL, INTERVIEWED, RINGING
from app.models.candidate import CandidateState as S
from app.models.exam import Exam, ExamKind
from app.redis_conn import redis_known_bad
from app.timeutil import ms

FINAL_STAGES = frozenset(STAGE_OF_STATE[s] for s in FINAL)
TEMPLATE_OF_STAGE = {"declined": "final", "absent": "final", "disqualified": "final"}
# "waiting": the waiting room's supervised call; "spot_check": a spot check she accepted.
CALL_STAGES = frozenset({"debugging", "interviewing", "resting", "waiting", "spot_check"})
# Who rings, by the call's kind (the incoming-call box's title).
RINGING_TITLES = {
    "debug": "面试助理正在呼叫您",
    "interview": "面试考官正在呼叫您",
    "spot_check": "面试助理正在呼叫您（随机检查）",
    "call_back": "面试助理正在呼叫您（视频回呼）",
}
SCORE_STAGES = frozenset(STAGE_OF_STATE[s] for s in INTERVIEWED)


# --- keeping up with the clock ---------------------------------------------------------------


def bring_up_to_date(candidate: Candidate, now: datetime) -> Candidate:
    """Apply due time rules lazily (the periodic sweep does the same for those not looking)."""
    journey.settle(candidate, now)
    journey.lapse_spot_checks(now, candidate_id=candidate.id)
    if lot_assignment_due(candidate, now):
        journey.assign_missing_lots(candidate.exam_id, now)
        db.session.refresh(candidate)
    return candidate


def seconds_until(moment: datetime | None, now: datetime) -> int:
    if moment is None:
        return 0
    return max(0, int((moment - now).total_seconds() + 0.999))


def mmss(seconds: int) -> str:
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def format_score(score: Decimal, decimals: int) -> str:
    return f"{score:.{decimals}f}"


# --- what the pages show ---------------------------------------------------------------------


def _questions(candidate: Candidate) -> Sequence[QuestionSet]:
    return db.session.scalars(
        select(QuestionSet)
        .where(
            QuestionSet.exam_id == candidate.exam_id,
            or_(QuestionSet.panel_id.is_(None), QuestionSet.panel_id == candidate.panel_id),
        )
        .order_by(QuestionSet.position, QuestionSet.id)
    ).all()


def _broadcasts(candidate: Candidate) -> Sequence[Broadcast]:
    return db.session.scalars(
        select(Broadcast)
        .where(
            Broadcast.exam_id == candidate.exam_id,
            or_(Broadcast.panel_id.is_(None), Broadcast.panel_id == candidate.panel_id),
        )
        .order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
        .limit(3)
    ).all()


def _help_requests(candidate: Candidate) -> Sequence[HelpRequest]:
    return db.session.scalars(
        select(HelpRequest)
        .where(HelpRequest.candidate_id == candidate.id)
        .order_by(HelpRequest.id.desc())
        .limit(5)
    ).all()


def _published_result(candidate: Candidate) -> CandidateResult | None:
    return db.session.scalar(
        select(CandidateResult).where(
            CandidateResult.candidate_id == candidate.id,
            CandidateResult.published_at.is_not(None),
        )
    )


def status_context(
    candidate: Candidate, stage: str, now: datetime, etag: str, ahead: int | None
) -> dict:
    """What the polled fragment shows; the page includes the same fragment on first render.
    `ahead`: `ahead_in_queue`, counted once for the ETag and the fragment."""
    exam = candidate.exam
    ctx = {
        "candidate": candidate,
        "exam": exam,
        "stage": stage,
        "final": stage in FINAL_STAGES,
        "etag": etag,
        "now_ms": ms(now),
        "ringing": None,
        "broadcasts": [] if stage in FINAL_STAGES else _broadcasts(candidate),
        "help_requests": _help_requests(candidate),
        "score": None,
        "score_seen_at": None,
        "score_corrected_from": None,
        "timing": None,
        "questions": [],
        "ahead": None,
        "second_camera": None,
        "mmss": mmss,
        "after_cutoff": journey.past_cutoff(exam, now),
        # 模拟考试没有分数 (SEED 004): a mock shows no score and no "score to come".
        "scored": exam.kind != ExamKind.MOCK,
    }
    call = journey.ringing_call(candidate) if candidate.state in RINGING else None
    if call is None and stage != "spot_check":
        call = journey.spot_check_shown(candidate)
        call = call if call is not None and call.outcome == "ringing" else None
    if call is not None:
        ctx["ringing"] = {
            "kind": call.kind,
            "title": RINGING_TITLES.get(call.kind, RINGING_TITLES["debug"]),
            "seconds": seconds_until(call.accept_by, now),
            "accept_by_ms": ms(call.accept_by),
        }
    ctx["ahead"] = ahead
    if stage == "interviewing":
        phase = interview_phase(candidate, now)
        timing: dict[str, object] = {"phase": phase}
        if phase == "reading":
            seconds = seconds_until(candidate.timer_started_at, now)
            timing.update(seconds=seconds, until_ms=ms(candidate.timer_started_at))
        elif phase == "answering":
            seconds = seconds_until(candidate.deadline_at, now)
            timing.update(
                seconds=seconds, until_ms=ms(candidate.deadline_at), level=level_for(seconds)
            )
        ctx["timing"] = timing
        # 题本: never sent to the browser before the chief starts the clock.
        if candidate.reading_started_at is not None:
            ctx["questions"] = _questions(candidate)
    if stage in SCORE_STAGES and ctx["scored"]:
        result = _published_result(candidate)
        if result is not None:
            ctx["score"] = format_score(result.final_score, exam.score_decimals)
            ctx["score_seen_at"] = result.seen_by_candidate_at
            if result.corrected_from is not None:
                ctx["score_corrected_from"] = format_score(
                    result.corrected_from, exam.score_decimals
                )
            if stage == "released":
                # A published score may still be corrected (HR's paper entry): keep looking,
                # slowly, so that the new score and its 确认成绩 appear without a reload.
                ctx["final"] = False
        elif stage == "released":
            # Released before the score was published (HR may hold publication): keep looking,
            # slowly, so that it still appears without a reload; polling stops once it has.
            ctx["final"] = False
    if exam.requires_second_camera and stage in ("interviewing", "resting"):
        ctx["second_camera"] = journey.second_camera_connected(candidate, now)
    ctx.update(schedule_gates(exam, stage, now))
    score_shown = ctx["score"] is not None if stage == "released" else None
    ctx["poll_seconds"] = next_poll_seconds(
        candidate, stage, now, score_shown, ahead, ringing=call is not None
    )
    return ctx


def next_poll_seconds(
    candidate: Candidate,
    stage: str,
    now: datetime,
    score_shown: bool | None,
    ahead: int | None,
    ringing: bool,
) -> int:
    """The full answer's interval (app/day/poll_interval.py); a ringing call polls fast."""
    if ringing or candidate.state in RINGING:
        return FAST
    seconds = poll_seconds(
        stage, candidate.exam, now, score_shown, ahead=ahead, pulse_ok=not redis_known_bad()
    )
    return seconds or FAST


def schedule_gates(exam: Exam, stage: str, now: datetime) -> dict:
    """The buttons the clock opens (poll.schedule_gate puts the same in the ETag): the debug room
    with the exam-day login, 进入面试等待室 N minutes before the start."""
    gates: dict[str, object] = {"debug_opens": None, "login_over": False, "waiting_opens": None}
    if stage in ("invited", "confirmed") and not login_window_open(exam, now):
        if now < exam.login_opens_at:
            gates["debug_opens"] = exam.login_opens_at
        else:
            gates["login_over"] = True
    if stage == "debugged" and not waiting_open(exam, now):
        gates["waiting_opens"] = waiting_opens_at(exam)
    return gates


def poll_context(
    candidate: Candidate, stage: str, now: datetime, etag: str, ahead: int | None
) -> dict:
    """The polled fragment's context: the gated buttons outside it come along out of band, so
    that a button the clock has just enabled is enabled without a reload."""
    ctx = status_context(candidate, stage, now, etag, ahead)
    if stage in ("confirmed", "debugged"):
        ctx["oob_gate"] = True
    if stage == "confirmed":
        ctx["missing"] = [m.step for m in journey.missing_before_debug(candidate)]
    return ctx


def linked_mocks(exam: Exam) -> Sequence[Exam]:
    """The mock interviews held for this formal exam (确认参加后查看参加模拟测试时间, SEED 000)."""
    if exam.kind == ExamKind.MOCK:
        return []
    return db.session.scalars(
        select(Exam)
        .where(Exam.kind == ExamKind.MOCK, Exam.formal_exam_id == exam.id)
        .order_by(Exam.login_opens_at, Exam.id)
    ).all()


def notice_state(candidate: Candidate) -> tuple[Sequence[Notice], set[int]]:
    notices = db.session.scalars(
        select(Notice)
        .where(Notice.exam_id == candidate.exam_id)
        .order_by(Notice.position, Notice.id)
    ).all()
    read = set(
        db.session.scalars(
            select(NoticeAck.notice_id).where(NoticeAck.candidate_id == candidate.id)
        )
    )
    return notices, read


def page_context(candidate: Candidate, stage: str, now: datetime) -> dict:
    ahead = ahead_in_queue(candidate, stage)
    ctx = status_context(candidate, stage, now, poll_etag(candidate, stage, now, ahead), ahead)
    if stage in ("invited", "confirmed"):
        notices, read = notice_state(candidate)
        ctx.update(notices=notices, read=read)
        missing = debug_prerequisites(candidate, notices, read)
        ctx["missing"] = [m.step for m in missing]
        ctx["mock_missing"] = journey.MOCK_NOT_TAKEN in missing
        if stage == "confirmed":
            ctx["mocks"] = [(mock, start_of(mock)) for mock in linked_mocks(candidate.exam)]
    if stage in CALL_STAGES:
        from app.jitsi.embed import embed_for_candidate, embed_for_waiting_candidate

        embed = embed_for_candidate(candidate, now)
        if stage == "waiting" and embed is not None and embed.kind != "waiting":
            # The chief's call rings: she stays in the waiting room until she accepts.
            embed = embed_for_waiting_candidate(candidate, now)
        ctx["embed"] = embed
    if stage == "spot_check":
        call = journey.spot_check_shown(candidate)
        ctx["spot_check_kind"] = call.kind if call is not None else None
    ctx["final_message"] = final_message(candidate)
    ctx["face_consent"] = stage in ("invited", "confirmed") and face_stills.consent_needed(
        candidate, candidate.exam
    )
    # Where a still is expected now, how often the page sends one (app/faces/stills.py).
    purpose = face_stills.purpose_now(candidate, candidate.exam)
    ctx["face_stills_every"] = (
        face_stills.every_seconds(purpose, candidate.exam) if purpose is not None else None
    )
    return ctx


DECLINED_BY_DEADLINE = "您未在确认截止时间前确认参加，视为放弃参加本场面试。"


def final_message(candidate: Candidate) -> str | None:
    """Why the way ended. 'Declined' is the candidate's own click or the confirm deadline
    passing (视为放弃): the audit log says which, and the candidate is told the right one."""
    if candidate.state == S.DECLINED and _audited(candidate, "journey.expire_confirmation"):
        return DECLINED_BY_DEADLINE
    if candidate.state == S.ABSENT and candidate.waiting_since is not None:
        return journey.NO_SHOW_MESSAGE
    if candidate.state == S.ABSENT and _audited(candidate, "journey.mark_absent_in_debug"):
        return journey.LEFT_DEBUG_MESSAGE
    return journey.REFUSAL_BY_STATE.get(S(candidate.state))


def _audited(candidate: Candidate, kind: str) -> bool:
    return (
        db.session.scalar(
            select(AuditEvent.id)
            .where(AuditEvent.candidate_id == candidate.id, AuditEvent.kind == kind)
            .limit(1)
        )
        is not None
    )


def debug_prerequisites(candidate: Candidate, notices, read) -> list[journey.Missing]:
    """The journey's list (the same `enter_debug` refuses on), said before the click."""
    return journey.missing_before_debug(
        candidate, all_notices_read=all(n.id in read for n in notices)
    )
