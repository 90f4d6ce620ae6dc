"""Candidate pages (Simplified Chinese): code entry and the way through the rooms.

One page, `/me`, shows whatever the candidate's state says (a template per stage), so a reload
at any moment lands on the right page. The page polls `/me/state` every 2 s: the poll settles
due time rules, answers 304 (before rendering anything) while nothing changed, sends the browser
to `/me` when the stage changed, and otherwise returns the small status fragment. Every action
is a POST that calls the journey; a refusal is a Chinese message, never a 500.
"""

import os
from datetime import datetime, timedelta
from decimal import Decimal
from functools import wraps
from pathlib import Path

import redis
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import audit, db, htmx, journey
from app.security import code_alerts as code_guard
from app.scoring import service as scoring
from app.decorators import full_page_redirect
from app.day.clock import level_for
from app.day.poll import (
    STAGE_OF_STATE,
    interview_phase,
    lot_assignment_due,
    poll_etag,
    quick_not_modified,
    stage_of,
)
from app.day.session import (
    CODE_PATTERN,
    find_candidate_by_code,
    load_candidate,
    load_signed_in_candidate,
    reads_candidate_itself,
    sign_in,
)
from app.journey import Actor, Refused
from app.models import (
    AuditEvent,
    Broadcast,
    Candidate,
    CandidateResult,
    HelpRequest,
    Notice,
    NoticeAck,
    Panel,
    QuestionSet,
)
from app.models.candidate import BEFORE_DEBUG, FINAL, INTERVIEWED, RINGING
from app.models.candidate import CandidateState as S
from app.models.exam import ExamKind
from app.day.poll_versions import bump_candidate
from app.security.limits import client_address, code_limit_global, code_limit_per_address, everyone, failed, limiter
from app.redis_conn import get_redis
from app.timeutil import utcnow

bp = Blueprint("candidate", __name__)
bp.before_app_request(load_candidate)

FINAL_STAGES = frozenset(STAGE_OF_STATE[s] for s in FINAL)
TEMPLATE_OF_STAGE = {"declined": "final", "absent": "final", "disqualified": "final"}
CALL_STAGES = frozenset({"debugging", "interviewing", "resting"})
SCORE_STAGES = frozenset(STAGE_OF_STATE[s] for s in INTERVIEWED)

HELP_MAX_CHARS = 200
HELP_MIN_INTERVAL = timedelta(seconds=10)
VISIBILITY_KINDS = {"hidden": "页面隐藏", "blur": "窗口失去焦点"}
VISIBILITY_THROTTLE_SECONDS = 5
ID_PHOTO_MAX_BYTES = 5 * 1024 * 1024
ID_PHOTO_TYPES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))

CALL_LAPSED = "呼叫已超时或已结束，请等待工作人员再次呼叫。"


# --- access ----------------------------------------------------------------------------------


def _go(target: str):
    return full_page_redirect(target, 303)


def signed_in(view):
    """Signed-in candidates only; others go to the code page (or the takeover notice) as a
    whole page, since an htmx poll would otherwise swap the code page into the fragment."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("candidate") is None:
            if g.get("candidate_taken_over"):
                return _go(url_for("candidate.taken_over"))
            return _go(url_for("candidate.index"))
        return view(*args, **kwargs)

    return wrapped


# --- keeping up with the clock ---------------------------------------------------------------


def bring_up_to_date(candidate: Candidate, now: datetime) -> Candidate:
    """Apply due time rules lazily (the periodic sweep does the same for those not looking)."""
    journey.settle(candidate, now)
    if lot_assignment_due(candidate, now):
        journey.assign_missing_lots(candidate.exam_id, now)
        db.session.refresh(candidate)
    return candidate


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def _seconds_until(moment: datetime | None, now: datetime) -> int:
    if moment is None:
        return 0
    return max(0, int((moment - now).total_seconds() + 0.999))


def mmss(seconds: int) -> str:
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def format_score(score: Decimal, decimals: int) -> str:
    return f"{score:.{decimals}f}"


# --- what the pages show ---------------------------------------------------------------------


def _questions(candidate: Candidate) -> list[QuestionSet]:
    return db.session.scalars(
        select(QuestionSet)
        .where(
            QuestionSet.exam_id == candidate.exam_id,
            or_(QuestionSet.panel_id.is_(None), QuestionSet.panel_id == candidate.panel_id),
        )
        .order_by(QuestionSet.position, QuestionSet.id)
    ).all()


def _broadcasts(candidate: Candidate) -> list[Broadcast]:
    return db.session.scalars(
        select(Broadcast)
        .where(
            Broadcast.exam_id == candidate.exam_id,
            or_(Broadcast.panel_id.is_(None), Broadcast.panel_id == candidate.panel_id),
        )
        .order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
        .limit(3)
    ).all()


def _help_requests(candidate: Candidate) -> list[HelpRequest]:
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


def _ahead_of(candidate: Candidate) -> int | None:
    if candidate.lot_number is None or candidate.panel_id is None:
        return None
    return db.session.scalar(
        select(func.count(Candidate.id)).where(
            Candidate.panel_id == candidate.panel_id,
            Candidate.state == S.WAITING,
            Candidate.lot_number < candidate.lot_number,
        )
    )


def status_context(candidate: Candidate, stage: str, now: datetime, etag: str) -> dict:
    """What the polled fragment shows; the page includes the same fragment on first render."""
    exam = candidate.exam
    ctx = {
        "candidate": candidate,
        "exam": exam,
        "stage": stage,
        "final": stage in FINAL_STAGES,
        "etag": etag,
        "now_ms": _ms(now),
        "ringing": None,
        "broadcasts": [] if stage in FINAL_STAGES else _broadcasts(candidate),
        "help_requests": _help_requests(candidate),
        "score": None,
        "score_seen_at": None,
        "poll_every": "2s",
        "timing": None,
        "questions": [],
        "ahead": None,
        "second_camera": None,
        "mmss": mmss,
        # 模拟考试没有分数 (SEED 004): a mock shows no score and no "score to come".
        "scored": exam.kind != ExamKind.MOCK,
    }
    if candidate.state in RINGING:
        call = journey.ringing_call(candidate)
        if call is not None:
            ctx["ringing"] = {
                "kind": call.kind,
                "seconds": _seconds_until(call.accept_by, now),
                "accept_by_ms": _ms(call.accept_by),
            }
    if stage == "waiting":
        ctx["ahead"] = _ahead_of(candidate)
    if stage == "interviewing":
        phase = interview_phase(candidate, now)
        timing = {"phase": phase}
        if phase == "reading":
            seconds = _seconds_until(candidate.timer_started_at, now)
            timing.update(seconds=seconds, until_ms=_ms(candidate.timer_started_at))
        elif phase == "answering":
            seconds = _seconds_until(candidate.deadline_at, now)
            timing.update(seconds=seconds, until_ms=_ms(candidate.deadline_at),
                          level=level_for(seconds))
        ctx["timing"] = timing
        # 题本: never sent to the browser before the chief starts the clock.
        if candidate.reading_started_at is not None:
            ctx["questions"] = _questions(candidate)
    if stage in SCORE_STAGES and ctx["scored"]:
        result = _published_result(candidate)
        if result is not None:
            ctx["score"] = format_score(result.final_score, exam.score_decimals)
            ctx["score_seen_at"] = result.seen_by_candidate_at
        elif stage == "released":
            # Released before the score was published (HR may hold publication): keep looking,
            # slowly, so that it still appears without a reload; polling stops once it has.
            ctx["final"] = False
            ctx["poll_every"] = "10s"
    if exam.requires_second_camera and stage in ("debugged", "waiting", "interviewing"):
        ctx["second_camera"] = journey.second_camera_connected(candidate, now)
    return ctx


def _notice_state(candidate: Candidate) -> tuple[list[Notice], set[int]]:
    notices = db.session.scalars(
        select(Notice).where(Notice.exam_id == candidate.exam_id).order_by(Notice.position, Notice.id)
    ).all()
    read = set(
        db.session.scalars(
            select(NoticeAck.notice_id).where(NoticeAck.candidate_id == candidate.id)
        )
    )
    return notices, read


def page_context(candidate: Candidate, stage: str, now: datetime) -> dict:
    ctx = status_context(candidate, stage, now, poll_etag(candidate, stage, now))
    if stage in ("invited", "confirmed"):
        notices, read = _notice_state(candidate)
        ctx.update(notices=notices, read=read)
        ctx["missing"] = _missing_before_debug(candidate, notices, read)
        ctx["mock_missing"] = MOCK_STEP in ctx["missing"]
    if stage in CALL_STAGES:
        from app.jitsi.embed import embed_for_candidate

        ctx["embed"] = embed_for_candidate(candidate, now)
    ctx["final_message"] = final_message(candidate)
    return ctx


DECLINED_BY_DEADLINE = "您未在确认截止时间前确认参加，视为放弃参加本场面试。"


def final_message(candidate: Candidate) -> str | None:
    """Why the way ended. 'Declined' is the candidate's own click or the confirm deadline
    passing (视为放弃): the audit log says which, and the candidate is told the right one."""
    if candidate.state == S.DECLINED:
        expired = db.session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.candidate_id == candidate.id,
                AuditEvent.kind == "journey.expire_confirmation",
            ).limit(1)
        )
        if expired is not None:
            return DECLINED_BY_DEADLINE
    if candidate.state == S.ABSENT and candidate.waiting_since is not None:
        return journey.NO_SHOW_MESSAGE
    return journey.REFUSAL_BY_STATE.get(S(candidate.state))


MOCK_STEP = "参加模拟面试（完成设备调试）"


def _missing_before_debug(candidate: Candidate, notices, read) -> list[str]:
    """What still stands between the candidate and the debug room (the journey's guard checks
    the same; this only says it before they click)."""
    missing = []
    if candidate.exam.requires_id_photo and not candidate.id_photo_path:
        missing.append("上传身份证人像面照片")
    if any(n.id not in read for n in notices):
        missing.append("阅读全部考试附件并点击“已阅”")
    if candidate.exam.requires_mock and not journey.took_part_in_mock(candidate, candidate.exam):
        missing.append(MOCK_STEP)
    return missing


# --- pages -----------------------------------------------------------------------------------


CODE_LIMITED = "邀请码输入错误次数过多，请1分钟后再试。如确认邀请码无误仍无法登录，请联系考务工作人员。"
CODE_BUSY = "当前登录尝试过多，系统已暂时限制邀请码登录，请稍候1分钟再试。"


def _code_limit_breached(request_limit) -> None:
    """Audit a blocked address once a minute, not once per blocked request (a flood would
    otherwise write the audit log as fast as it is refused)."""
    scope = "global" if everyone() in request_limit.request_args else "address"
    address = client_address()
    if code_guard.first_in_a_while(f"{scope}:{address}"):
        audit.record("candidate.code_limited", scope=scope, address=address,
                     limit=str(request_limit.limit))
        db.session.commit()


@bp.errorhandler(429)
def _too_many(error):
    """429 on the code page itself, in Chinese, with the form still there."""
    description = getattr(error, "description", None)
    message = description if description in (CODE_LIMITED, CODE_BUSY) else CODE_LIMITED
    if request.endpoint != "candidate.index":
        return _refused("操作过于频繁，请稍后再试。", 429)
    return _code_page(message, 429)


# Only refused codes count (deduct_when): a candidate who types the right code costs nothing.
# The global budget matters more than the per-address one: one guess is tried against every live
# code at once, and a botnet spreads its guesses over many addresses.
@bp.route("/", methods=["GET", "POST"])
@limiter.limit(code_limit_per_address, methods=["POST"], deduct_when=failed,
               on_breach=_code_limit_breached, error_message=CODE_LIMITED)
@limiter.limit(code_limit_global, key_func=everyone, scope="candidate-code-global", methods=["POST"],
               deduct_when=failed, on_breach=_code_limit_breached, error_message=CODE_BUSY)
def index():
    if request.method == "POST":
        return _enter_code((request.form.get("code") or "").strip(), utcnow())
    return render_template("candidate/code.html", message=None)


def _code_page(message: str, status: int = 400):
    return render_template("candidate/code.html", message=message), status


def _enter_code(code: str, now: datetime):
    me = g.get("candidate")
    if me is not None and me.panel is not None and code == me.panel.rest_room_code and code != me.code:
        return _enter_rest_room(me, now)
    result = find_candidate_by_code(code, now)
    if result.candidate is None:
        message = result.message
        if CODE_PATTERN.match(code) and _is_rest_room_code(code):
            message = (
                "这是休息室邀请码。请先输入您本人的面试邀请码登录；"
                "面试结束后，再在本页输入休息室邀请码进入休息室。"
            )
        audit.record("candidate.code_refused", code_tail=code[-2:], reason=message,
                     address=client_address(), exam_id=result.exam_id)
        db.session.commit()
        code_guard.record_failure(result.exam_id)
        return _code_page(message)
    candidate = result.candidate
    if me is None or me.id != candidate.id:
        sign_in(candidate)
        db.session.commit()
    # SEED 003: after debugging, entering the code again leads into the waiting room.
    if candidate.state == S.DEBUGGED:
        try:
            journey.perform(candidate.id, "enter_waiting", Actor.of_candidate(candidate), now)
        except Refused as refused:
            flash(refused.message, "error")
    return redirect(url_for("candidate.home"), 303)


def _is_rest_room_code(code: str) -> bool:
    return db.session.scalar(select(Panel.id).where(Panel.rest_room_code == code).limit(1)) is not None


def _enter_rest_room(me: Candidate, now: datetime):
    journey.settle(me, now)
    if me.state == S.RESTING:
        return redirect(url_for("candidate.home"))
    if me.state != S.FINISHED:
        return _code_page("休息室邀请码需在面试结束后输入。请输入您本人的面试邀请码。")
    try:
        journey.perform(me.id, "enter_rest", Actor.of_candidate(me), now)
    except Refused as refused:
        return _code_page(refused.message)
    return redirect(url_for("candidate.home"))


@bp.get("/me")
@signed_in
def home():
    candidate, now = g.candidate, utcnow()
    bring_up_to_date(candidate, now)
    stage = stage_of(candidate)
    template = TEMPLATE_OF_STAGE.get(stage, stage)
    response = make_response(
        render_template(f"candidate/stage_{template}.html", **page_context(candidate, stage, now))
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/me/state")
@reads_candidate_itself
def state():
    """The polled fragment. Cheap when nothing changed: settle, compare, 304.

    Most polls change nothing; `candidate_poll.quick_not_modified` answers those from one
    plain SELECT. Everything else (and every page that is not htmx's) takes the full way."""
    now = utcnow()
    if htmx and request.if_none_match:  # a page's first poll has nothing to compare
        etag = quick_not_modified(session.get("candidate_id"), session.get("candidate_nonce"),
                                  request.args.get("stage"), request.if_none_match, now)
        if etag is not None:
            response = make_response("", 304)
            response.set_etag(etag)
            return _poll_headers(response, now)
    load_signed_in_candidate()
    return _state_in_full(now)


@signed_in
def _state_in_full(now: datetime):
    if not htmx:
        return redirect(url_for("candidate.home"))
    candidate = g.candidate
    bring_up_to_date(candidate, now)
    stage = stage_of(candidate)
    if request.args.get("stage") != stage:
        response = _go(url_for("candidate.home"))
    else:
        etag = poll_etag(candidate, stage, now)
        if request.if_none_match.contains(etag):
            response = make_response("", 304)
        else:
            response = make_response(
                render_template("candidate/_status.html", **status_context(candidate, stage, now, etag))
            )
        response.set_etag(etag)
    return _poll_headers(response, now)


def _poll_headers(response, now: datetime):
    # The countdowns re-sync to this on every poll, 304 included: the browser's clock is
    # never trusted, only its elapsed time between two polls.
    response.headers["X-Server-Now-Ms"] = str(_ms(now))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/signed-in-elsewhere")
def taken_over():
    return render_template("candidate/taken_over.html")


# --- actions ---------------------------------------------------------------------------------


def _refused(message: str, status: int = 409):
    """A refused action: an inline message for htmx, else a flash on the candidate's page."""
    if htmx:
        return render_template("candidate/_message.html", message=message), status
    flash(message, "error")
    return redirect(url_for("candidate.home"), 303)


def _act(move: str, done_message: str | None = None, **params):
    candidate = g.candidate
    try:
        journey.perform(candidate.id, move, Actor.of_candidate(candidate), utcnow(), **params)
    except Refused as refused:
        db.session.refresh(candidate)
        return _refused(final_message(candidate) or refused.message)
    if done_message:
        flash(done_message, "success")
    return _go(url_for("candidate.home"))


@bp.post("/me/confirm")
@signed_in
def confirm():
    return _act("confirm", "您已确认参加本场面试，请阅读考试附件并完成设备检测。")


@bp.route("/me/decline", methods=["GET", "POST"])
@signed_in
def decline():
    if request.method == "GET":
        if g.candidate.state not in BEFORE_DEBUG:
            return redirect(url_for("candidate.home"))
        return render_template("candidate/decline.html", candidate=g.candidate)
    return _act("decline")


@bp.post("/me/id-photo")
@signed_in
def id_photo():
    candidate = g.candidate
    if not candidate.exam.requires_id_photo:
        return _refused("本场面试无需上传身份证照片。")
    if candidate.state not in BEFORE_DEBUG:
        return _refused("当前阶段不能再上传或更换照片。")
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return _refused("请选择要上传的照片。", 422)
    data = upload.stream.read(ID_PHOTO_MAX_BYTES + 1)
    if len(data) > ID_PHOTO_MAX_BYTES:
        return _refused("照片不能超过5MB，请压缩后重新上传。", 422)
    ext = next((ext for magic, ext in ID_PHOTO_TYPES if data.startswith(magic)), None)
    if ext is None:
        return _refused("请上传JPG或PNG格式的照片。", 422)
    relative = f"uploads/id_photos/{candidate.id}.{ext}"
    _store_photo(Path(current_app.instance_path), relative, data)
    candidate.id_photo_path = relative
    audit.record("candidate.id_photo", candidate=candidate, bytes=len(data), type=ext)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return _refused("操作未生效：您的状态刚刚发生变化，请刷新后重试。")
    flash("照片已上传。", "success")
    return _go(url_for("candidate.home"))


def _store_photo(instance: Path, relative: str, data: bytes) -> None:
    target = instance / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    for _, other in ID_PHOTO_TYPES:
        stale = target.with_suffix(f".{other}")
        if stale != target and stale.exists():
            stale.unlink()


@bp.post("/me/notices/<int:notice_id>/ack")
@signed_in
def ack_notice(notice_id: int):
    candidate = g.candidate
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.exam_id != candidate.exam_id:
        abort(404)
    already = db.session.scalar(
        select(NoticeAck.id).where(
            NoticeAck.notice_id == notice.id, NoticeAck.candidate_id == candidate.id
        )
    )
    if already is None:
        db.session.add(NoticeAck(notice_id=notice.id, candidate_id=candidate.id,
                                 acknowledged_at=utcnow()))
        audit.record("candidate.notice_ack", candidate=candidate, notice_id=notice.id,
                     title=notice.title)
        try:
            db.session.commit()
        except IntegrityError:  # the same click twice at once: one row is enough
            db.session.rollback()
    if htmx:
        notices, read = _notice_state(candidate)
        return render_template(
            "candidate/_notices.html", candidate=candidate, notices=notices, read=read,
            missing=_missing_before_debug(candidate, notices, read), oob_continue=True,
        )
    return redirect(url_for("candidate.home"), 303)


@bp.post("/me/enter-debug")
@signed_in
def enter_debug():
    return _act("enter_debug")


@bp.post("/me/accept")
@signed_in
def accept():
    candidate, now = g.candidate, utcnow()
    journey.settle(candidate, now)
    if candidate.state in (S.DEBUGGING, S.INTERVIEWING):
        return _go(url_for("candidate.home"))  # a double click: already in the call
    move = {S.DEBUG_CALLED: "accept_debug", S.INTERVIEW_CALLED: "accept_interview"}.get(
        S(candidate.state)
    )
    if move is None:
        return _refused(CALL_LAPSED)
    return _act(move)


@bp.post("/me/draw-lot")
@signed_in
def draw_lot():
    return _act("draw_lot")


@bp.post("/me/finish")
@signed_in
def finish():
    candidate, now = g.candidate, utcnow()
    if (
        candidate.state == S.INTERVIEWING
        and candidate.timer_started_at is not None
        and now < candidate.timer_started_at
    ):
        return _refused("看题时间内不能结束面试，请在作答计时开始后再操作。")
    return _act("finish")


@bp.post("/me/score/ack")
@signed_in
def acknowledge_score():
    """确认成绩: the candidate confirms having seen the published score (audited once)."""
    candidate = g.candidate
    if stage_of(candidate) not in SCORE_STAGES:
        return _refused("面试结束后才能确认成绩。")
    try:
        scoring.acknowledge(candidate, utcnow())
    except scoring.ScoreError as error:
        return _refused(error.message)
    flash("您已确认成绩。", "success")
    return _go(url_for("candidate.home"))


@bp.post("/help", endpoint="help")
@signed_in
def ask_for_help():
    candidate, now = g.candidate, utcnow()
    message = " ".join((request.form.get("message") or "").split())
    error = None
    if not message:
        error = "请填写求助内容。"
    elif len(message) > HELP_MAX_CHARS:
        error = f"求助内容不能超过{HELP_MAX_CHARS}字。"
    else:
        last = db.session.scalar(
            select(func.max(HelpRequest.created_at)).where(HelpRequest.candidate_id == candidate.id)
        )
        if last is not None and now - last < HELP_MIN_INTERVAL:
            error = "求助已发送，请勿重复提交，工作人员会尽快联系您。"
    if error is not None:
        if htmx:
            return render_template("candidate/_help_form.html", help_error=error), 422
        flash(error, "error")
        return redirect(url_for("candidate.home"), 303)
    db.session.add(HelpRequest(candidate_id=candidate.id, message=message, created_at=now))
    audit.record("candidate.help", candidate=candidate, message=message, state=candidate.state)
    db.session.commit()
    bump_candidate(candidate.id)
    if htmx:
        return render_template("candidate/_help_form.html", help_sent=True)
    flash("求助已发送，工作人员会尽快联系您，回复将显示在页面上。", "success")
    return redirect(url_for("candidate.home"), 303)


@bp.post("/me/visibility")
def visibility():
    """疑似切屏: a beacon from the page (sendBeacon: no headers, so the CSRF token is a field).

    Only logged: it changes no state and no version, so no page re-renders because of it.
    """
    kind = request.form.get("kind")
    if kind not in VISIBILITY_KINDS:
        abort(400)
    candidate = g.get("candidate")
    if candidate is None:
        return "", 204
    if _first_report_in_a_while(candidate.id, kind):
        audit.record("candidate.suspected_switch", candidate=candidate, signal=kind,
                     label="疑似切屏", detail=VISIBILITY_KINDS[kind], state=candidate.state)
        db.session.commit()
    return "", 204


def _first_report_in_a_while(candidate_id: int, kind: str) -> bool:
    """At most one report per kind and candidate per few-second slot of server time, whatever
    the page sends (slots of the app's clock, not Redis expiry, so tests can move time)."""
    slot = int(utcnow().timestamp()) // VISIBILITY_THROTTLE_SECONDS
    try:
        return bool(
            get_redis().set(f"ir:vis:{candidate_id}:{kind}:{slot}", 1, nx=True,
                            ex=VISIBILITY_THROTTLE_SECONDS * 2)
        )
    except redis.RedisError:
        return True
