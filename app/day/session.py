"""Candidates sign in with their invitation code, not as Flask-Login users.

`session["candidate_id"]` plus a per-sign-in nonce identify the browser that holds the code;
a second sign-in with the same code replaces the nonce, and the first browser learns at its
next request that it was signed in elsewhere (不得多屏登录).
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import audit, db
from app.day.schedule import confirm_period_open, next_opening
from app.day.signals import record_takeover
from app.models import Candidate, Exam
from app.models.candidate import MAY_RETURN
from app.timeutil import bj_when

CODE_PATTERN = re.compile(r"^\d{6}$")
# How long after the login window closes a candidate still inside may sign in again: an exam day
# (the periodic sweep keeps settling exams 3 h past their close; a long day runs later).
RETURN_WINDOW = timedelta(hours=12)
# The candidates this browser has signed in as (session cookie): proof that it holds their codes.
PROVED_KEY = "codes_proved"
PROVED_KEEP = 4
AMBIGUOUS_CODE = "该邀请码暂时无法登录，请联系考务工作人员核对。"


@dataclass(frozen=True)
class CodeResult:
    candidate: Candidate | None
    message: str | None  # shown to the candidate when there is no candidate
    exam_id: int | None = None  # a refused code that belongs to an exam (outside its window)


def find_candidate_by_code(code: str, now: datetime) -> CodeResult:
    """The candidate whose code this is, if their exam accepts codes now: in its exam-day login
    window, in its confirmation period (确认期, days before: confirm, notices, ID photo only),
    or (after the window) from a candidate already inside."""
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        return CodeResult(None, "邀请码为6位数字，请核对后重新输入。")
    matches = db.session.execute(
        select(Candidate, Exam)
        .join(Exam, Exam.id == Candidate.exam_id)
        .where(Candidate.code == code)
    ).all()
    # Open now, or (after the login window) already inside and back after a dropped connection
    # (可再次进入面试房间继续面试); the window only closes the way in for those who never entered.
    accepting = [
        c
        for c, exam in matches
        if exam.login_open_at(now)
        or confirm_period_open(exam, now)
        or (
            c.state in MAY_RETURN
            and exam.login_closes_at <= now < exam.login_closes_at + RETURN_WINDOW
        )
    ]
    if len(accepting) == 1:
        return CodeResult(accepting[0], None)
    if len(accepting) > 1:
        # app/setup/codes.py keeps codes unique across such exams; a clash can only be data from
        # before that rule (HR sees it as a conflict): sign in neither rather than the wrong one.
        return CodeResult(None, AMBIGUOUS_CODE)
    if not matches:
        return CodeResult(None, "邀请码不正确，请核对面试通知中的邀请码。")
    upcoming = [(opens, exam) for _, exam in matches if (opens := next_opening(exam, now))]
    if upcoming:
        opens, exam = min(upcoming, key=lambda pair: pair[0])
        return CodeResult(
            None, f"尚未到登录时间，请于北京时间 {bj_when(opens, now)} 后登录。", exam.id
        )
    return CodeResult(None, "该邀请码的登录时间已结束。", matches[0][1].id)


def sign_in(candidate: Candidate) -> None:
    nonce = secrets.token_hex(16)
    took_over = candidate.session_nonce is not None
    candidate.session_nonce = nonce
    proved = [i for i in session.get(PROVED_KEY, []) if i != candidate.id][-(PROVED_KEEP - 1) :]
    session.clear()
    session[PROVED_KEY] = [*proved, candidate.id]
    session.permanent = True
    session["candidate_id"] = candidate.id
    session["candidate_nonce"] = nonce
    g.candidate = candidate
    audit.record("candidate.login", candidate=candidate, took_over=took_over)
    if took_over:
        record_takeover(candidate)  # the consoles' 多端登录 badge


def proves_own_code(code: str) -> bool:
    """This browser has shown before that it holds `code`, so entering it is no guess: the
    signed-in candidate's own code or their panel's rest-room code, or the code of a candidate
    this browser signed in as earlier (taken over by another browser, or signed out since).

    The proof is the signed session cookie, which only a sign-in with the code writes: it cannot
    be forged, and it proves that one code, so it is worth nothing for guessing others.
    """
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        return False
    me = g.get("candidate")
    if me is not None and (
        code == me.code or (me.panel is not None and code == me.panel.rest_room_code)
    ):
        return True
    proved = [i for i in session.get(PROVED_KEY, []) if isinstance(i, int)]
    if not proved:
        return False
    hit = db.session.scalar(
        select(Candidate.id).where(Candidate.id.in_(proved), Candidate.code == code).limit(1)
    )
    return hit is not None


def sign_out() -> None:
    session.pop("candidate_id", None)
    session.pop("candidate_nonce", None)
    g.candidate = None


def reads_candidate_itself(view):
    """Marks a view that reads the candidate its own cheaper way first (the 2-second poll):
    `load_candidate` leaves it alone, and the view calls `load_signed_in_candidate` when it
    needs the whole candidate."""
    view.reads_candidate_itself = True
    return view


def load_candidate() -> None:
    """before_app_request: put the signed-in candidate (if still theirs) in `g.candidate`."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if getattr(view, "reads_candidate_itself", False):
        g.candidate, g.candidate_taken_over = None, False
        return
    load_signed_in_candidate()


def load_signed_in_candidate() -> None:
    g.candidate = None
    g.candidate_taken_over = False
    candidate_id = session.get("candidate_id")
    if candidate_id is None:
        return
    # The exam and panel come in the same statement: every candidate page and the 2-second
    # poll read both, and a poll is what thousands of candidates send at once (make bench).
    candidate = db.session.get(
        Candidate, candidate_id, options=[joinedload(Candidate.exam), joinedload(Candidate.panel)]
    )
    if candidate is None:
        sign_out()
        return
    if candidate.session_nonce != session.get("candidate_nonce"):
        g.candidate_taken_over = True
        sign_out()
        return
    g.candidate = candidate
