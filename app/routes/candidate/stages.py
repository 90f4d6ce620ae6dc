"""The stage page (`/me`) and the candidate's moves: confirm, decline, ID photo, notices,
debug room, calls, lots, finishing and the score."""

import os
from pathlib import Path

from flask import (
    abort,
    current_app,
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
from app.day.poll import stage_of
from app.models import Notice, NoticeAck
from app.models.candidate import BEFORE_DEBUG
from app.models.candidate import CandidateState as S
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

ID_PHOTO_MAX_BYTES = 5 * 1024 * 1024
ID_PHOTO_TYPES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))

CALL_LAPSED = "呼叫已超时或已结束，请等待工作人员再次呼叫。"


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
    if not candidate.exam.requires_id_photo:
        return refused("本场面试无需上传身份证照片。")
    if candidate.state not in BEFORE_DEBUG:
        return refused("当前阶段不能再上传或更换照片。")
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return refused("请选择要上传的照片。", 422)
    data = upload.stream.read(ID_PHOTO_MAX_BYTES + 1)
    if len(data) > ID_PHOTO_MAX_BYTES:
        return refused("照片不能超过5MB，请压缩后重新上传。", 422)
    ext = next((ext for magic, ext in ID_PHOTO_TYPES if data.startswith(magic)), None)
    if ext is None:
        return refused("请上传JPG或PNG格式的照片。", 422)
    relative = f"uploads/id_photos/{candidate.id}.{ext}"
    _store_photo(Path(current_app.instance_path), relative, data)
    candidate.id_photo_path = relative
    audit.record("candidate.id_photo", candidate=candidate, bytes=len(data), type=ext)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return refused("操作未生效：您的状态刚刚发生变化，请刷新后重试。")
    flash("照片已上传。", "success")
    return go(url_for("candidate.home"))


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
