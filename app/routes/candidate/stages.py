"""The stage page (`/me`) and the candidate's moves: confirm, decline, ID photo, notices,
debug room, calls, lots, finishing and the score."""

from flask import (
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import audit, db, htmx, journey
from app.day import id_photo as id_photo_rules
from app.day.poll import page_stage, stage_of
from app.models import Notice, NoticeAck
from app.models.candidate import BEFORE_DEBUG
from app.models.candidate import CandidateState as S
from app.refusals import Refused, message_of
from app.routes.candidate.access import act, go, refused, signed_in
from app.routes.candidate.blueprints import bp
from app.routes.candidate.context import (
    SCORE_STAGES,
    TEMPLATE_OF_STAGE,
    bring_up_to_date,
    debug_prerequisites,
    notice_state,
    page_context,
)
from app.scoring import service as scoring
from app.timeutil import utcnow

# An upload refused for when it comes (409) rather than for what was sent (422).
WHEN_NOT = frozenset({"id_photo_not_needed", "id_photo_too_late"})

CALL_LAPSED = "呼叫已超时或已结束，请等待工作人员再次呼叫。"


@bp.get("/me")
@signed_in
def home():
    candidate, now = g.candidate, utcnow()
    bring_up_to_date(candidate, now)
    stage = page_stage(candidate)
    template = TEMPLATE_OF_STAGE.get(stage, stage)
    response = make_response(
        render_template(f"candidate/stage_{template}.html", **page_context(candidate, stage, now))
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/me/confirm")
@signed_in
def confirm():
    return act("confirm", "您已确认参加本场面试，请阅读考试附件并完成设备检测。")


@bp.route("/me/decline", methods=["GET", "POST"])
@signed_in
def decline():
    if request.method == "GET":
        if g.candidate.state not in BEFORE_DEBUG:
            return redirect(url_for("candidate.home"))
        return render_template("candidate/decline.html", candidate=g.candidate)
    return act("decline")


@bp.post("/me/id-photo")
@signed_in
def id_photo():
    candidate = g.candidate
    upload = request.files.get("photo")
    try:
        id_photo_rules.may_upload(candidate)
        max_bytes = id_photo_rules.ID_PHOTO_MAX_BYTES
        data = upload.stream.read(max_bytes + 1) if upload is not None and upload.filename else b""
        ext = id_photo_rules.photo_type(data, max_bytes)
    except Refused as refusal:
        return refused(refusal.message, 409 if refusal.code in WHEN_NOT else 422)
    relative = id_photo_rules.store_photo(id_photo_rules.photo_root(), candidate.id, ext, data)
    candidate.id_photo_path = relative
    audit.record("candidate.id_photo", candidate=candidate, bytes=len(data), type=ext)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return refused(message_of("changed_for_you"))
    flash("照片已上传。", "success")
    return go(url_for("candidate.home"))


@bp.post("/me/notices/<int:notice_id>/ack")
@signed_in
def ack_notice(notice_id: int):
    candidate = g.candidate
    notice = db.get_or_404(Notice, notice_id)
    if notice.exam_id != candidate.exam_id:
        abort(404)
    already = db.session.scalar(
        select(NoticeAck.id).where(
            NoticeAck.notice_id == notice.id, NoticeAck.candidate_id == candidate.id
        )
    )
    if already is None:
        db.session.add(
            NoticeAck(notice_id=notice.id, candidate_id=candidate.id, acknowledged_at=utcnow())
        )
        audit.record(
            "candidate.notice_ack", candidate=candidate, notice_id=notice.id, title=notice.title
        )
        try:
            db.session.commit()
        except IntegrityError:  # the same click twice at once: one row is enough
            db.session.rollback()
    if htmx:
        notices, read = notice_state(candidate)
        return render_template(
            "candidate/_notices.html",
            candidate=candidate,
            notices=notices,
            read=read,
            missing=[m.step for m in debug_prerequisites(candidate, notices, read)],
            oob_continue=True,
        )
    return redirect(url_for("candidate.home"), 303)


@bp.post("/me/enter-debug")
@signed_in
def enter_debug():
    return act("enter_debug")


@bp.post("/me/accept")
@signed_in
def accept():
    candidate, now = g.candidate, utcnow()
    journey.settle(candidate, now)
    spot_check = journey.spot_check_shown(candidate)  # 随机检查 / 视频回呼
    if spot_check is not None:
        if spot_check.outcome == "accepted":
            return go(url_for("candidate.home"))  # a double click: already in the call
        return act("accept_spot_check")
    if candidate.state in (S.DEBUGGING, S.INTERVIEWING):
        return go(url_for("candidate.home"))  # a double click: already in the call
    move = {S.DEBUG_CALLED: "accept_debug", S.INTERVIEW_CALLED: "accept_interview"}.get(
        S(candidate.state)
    )
    if move is None:
        return refused(CALL_LAPSED)
    return act(move)


@bp.post("/me/draw-lot")
@signed_in
def draw_lot():
    return act("draw_lot")


@bp.post("/me/finish")
@signed_in
def finish():
    return act("finish")  # not during 看题时间: the journey's guard says so


@bp.post("/me/score/ack")
@signed_in
def acknowledge_score():
    """确认成绩: the candidate confirms having seen the published score (audited once)."""
    candidate = g.candidate
    if stage_of(candidate) not in SCORE_STAGES:
        return refused("面试结束后才能确认成绩。")
    try:
        scoring.acknowledge(candidate, utcnow())
    except scoring.ScoreError as error:
        return refused(error.message)
    flash("您已确认成绩。", "success")
    return go(url_for("candidate.home"))
