"""HR's live overview of one exam, and one candidate's timeline from the audit log.

The overview is read every few seconds by every HR browser during an exam of thousands of
candidates, so it costs a constant number of queries whatever the size, and a page of the
table at most: the whole exam's counts are GROUP BYs (per panel and state, the help,
violation and switch totals, who needs attention); the table is one page (PAGE_SIZE) of the
filtered and searched candidates, then one GROUP BY per kind of count (calls, violations,
help, suspected switches) over that page's ids, merged in Python. Nothing here may touch a
lazy relationship per row.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select

from app import db
from app.day.signals import SWITCH_KIND, signal_words
from app.exports import csv_bytes
from app.faces.signals import face_words
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
PAGE_SIZE = 100  # candidates per page of the overview table
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
    rows: list[Row]  # the candidates of this page, with their counts
    by_state: dict[str, int]  # the whole exam, whatever the filters
    panels: list[tuple[int, str]]
    code_alert: dict
    # The whole exam's counts per panel and state: {panel id or None: {state: n}}.
    by_panel: dict[int | None, dict[str, int]] = field(default_factory=dict)
    # The whole exam's help, violations and switches (the alerts ring for any page).
    totals: dict[str, int] = field(default_factory=dict)
    attention_total: int = 0
    attention: list[tuple[int, str, str | None]] = field(default_factory=list)
    matching: int = 0  # candidates matching the filters and search, over every page
    page: int = 1
    pages: int = 1
    per_page: int = PAGE_SIZE

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)


SEARCH_MAX = 50
LOT_TYPED = re.compile(r"[0-9]{1,4}")


def search_clause(query: str):
    """What HR types in the overview's search: part of a name, ID number, phone or invitation
    code, or a lot number (exact). None when nothing was typed."""
    query = query.strip()[:SEARCH_MAX]
    if not query:
        return None
    # autoescape: a % or _ typed is a letter, not a wildcard.
    matches = [
        Candidate.name.contains(query, autoescape=True),
        func.upper(Candidate.id_number).contains(query.upper(), autoescape=True),
        Candidate.phone.contains(query, autoescape=True),
        func.upper(Candidate.code).contains(query.upper(), autoescape=True),
    ]
    if LOT_TYPED.fullmatch(query):
        matches.append(Candidate.lot_number == int(query))
    return or_(*matches)


def attention_clause(exam_id: int):
    """SQL twin of Row.needs_attention: a violation, a suspected switch, a help request nobody
    answered, or a missed call."""
    violation = select(Violation.id).where(Violation.candidate_id == Candidate.id).exists()
    switched = (
        select(AuditEvent.id)
        .where(
            AuditEvent.candidate_id == Candidate.id,
            AuditEvent.kind == SWITCH_KIND,
            AuditEvent.exam_id == exam_id,
        )
        .exists()
    )
    unreplied = (
        select(HelpRequest.id)
        .where(
            HelpRequest.candidate_id == Candidate.id,
            HelpRequest.reply.is_(None),
            HelpRequest.resolved_at.is_(None),
        )
        .exists()
    )
    return or_(violation, switched, unreplied, Candidate.missed_calls > 0)


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
    query: str = "",
    page: int = 1,
    per_page: int | None = None,
    code_alert: dict | None = None,
) -> Overview:
    """One page of the exam's candidates (filtered, searched) with their counts, and the whole
    exam's counts; see module doc. A page number past the end shows the last page."""
    per_page = per_page or PAGE_SIZE
    in_scope = Candidate.exam_id == exam.id
    scoped = [in_scope]
    if panel_id is not None:
        scoped.append(Candidate.panel_id == panel_id)
    if state:
        scoped.append(Candidate.state == state)
    searched = search_clause(query)
    if searched is not None:
        scoped.append(searched)
    needs_attention = attention_clause(exam.id)
    if attention_only:
        scoped.append(needs_attention)

    panels = [
        (pid, name)
        for pid, name in db.session.execute(
            select(Panel.id, Panel.name).where(Panel.exam_id == exam.id).order_by(Panel.name)
        )
    ]
    by_state: dict[str, int] = {}
    by_panel: dict[int | None, dict[str, int]] = {}
    for pid, cand_state, n in db.session.execute(
        select(Candidate.panel_id, Candidate.state, func.count(Candidate.id))
        .where(in_scope)
        .group_by(Candidate.panel_id, Candidate.state)
    ):
        by_state[cand_state] = by_state.get(cand_state, 0) + n
        by_panel.setdefault(pid, {})[cand_state] = n

    totals = _exam_totals(exam.id, scoped, needs_attention)
    matching = totals.pop("matching")
    pages = max(1, -(-matching // per_page))
    page = min(max(1, page), pages)
    rows: dict[int, Row] = {}
    for candidate, panel_name in db.session.execute(
        select(Candidate, Panel.name)
        .outerjoin(Panel, Panel.id == Candidate.panel_id)
        .where(*scoped)
        .order_by(Panel.name, Candidate.lot_number.is_(None), Candidate.lot_number, Candidate.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ):
        rows[candidate.id] = Row(candidate=candidate, panel_name=panel_name)
    shown = list(rows) or [0]  # at most one page of ids: the counts below are for those only

    for cid, calls, last_called, lapsed in db.session.execute(
        select(
            Call.candidate_id,
            func.count(Call.id),
            func.max(Call.called_at),
            func.coalesce(func.sum(case((Call.outcome == "lapsed", 1), else_=0)), 0),
        )
        .where(Call.candidate_id.in_(shown))
        .group_by(Call.candidate_id)
    ):
        rows[cid].calls, rows[cid].last_called_at, rows[cid].lapsed_calls = (
            calls,
            last_called,
            lapsed,
        )

    for cid, kind, n in db.session.execute(
        select(Violation.candidate_id, Violation.kind, func.count(Violation.id))
        .where(Violation.candidate_id.in_(shown))
        .group_by(Violation.candidate_id, Violation.kind)
    ):
        rows[cid].violations[kind] = n

    waiting_for_reply = HelpRequest.reply.is_(None) & HelpRequest.resolved_at.is_(None)
    for cid, total, still_open, unreplied in db.session.execute(
        select(
            HelpRequest.candidate_id,
            func.count(HelpRequest.id),
            func.coalesce(func.sum(case((HelpRequest.resolved_at.is_(None), 1), else_=0)), 0),
            func.coalesce(func.sum(case((waiting_for_reply, 1), else_=0)), 0),
        )
        .where(HelpRequest.candidate_id.in_(shown))
        .group_by(HelpRequest.candidate_id)
    ):
        rows[cid].help_total, rows[cid].help_open, rows[cid].help_unreplied = (
            total,
            still_open,
            unreplied,
        )

    for cid, n, last in db.session.execute(
        select(AuditEvent.candidate_id, func.count(AuditEvent.id), func.max(AuditEvent.at))
        .where(
            AuditEvent.candidate_id.in_(shown),
            AuditEvent.kind == SWITCH_KIND,
            AuditEvent.exam_id == exam.id,
        )
        .group_by(AuditEvent.candidate_id)
    ):
        if cid is not None:
            rows[cid].switches, rows[cid].last_switch_at = n, last

    return Overview(
        exam=exam,
        rows=list(rows.values()),
        by_state=by_state,
        by_panel=by_panel,
        panels=panels,
        code_alert=code_alert if code_alert is not None else code_guess_alert(exam, now),
        totals=totals,
        attention_total=totals.pop("attention"),
        attention=_attention_names(exam.id, needs_attention),
        matching=matching,
        page=page,
        pages=pages,
        per_page=per_page,
    )


ATTENTION_SHOWN = 12


def _exam_totals(exam_id: int, scoped: list, needs_attention) -> dict[str, int]:
    """Help (all and unreplied), violations, suspected switches and who needs attention in the
    whole exam, and how many match the filters: one statement of scalar subqueries."""
    of_exam = select(Candidate.id).where(Candidate.exam_id == exam_id)
    waiting_for_reply = HelpRequest.reply.is_(None) & HelpRequest.resolved_at.is_(None)
    matching, attention, help_total, help_unreplied, violations, switches = db.session.execute(
        select(
            select(func.count(Candidate.id)).where(*scoped).scalar_subquery(),
            select(func.count(Candidate.id))
            .where(Candidate.exam_id == exam_id, needs_attention)
            .scalar_subquery(),
            select(func.count(HelpRequest.id))
            .where(HelpRequest.candidate_id.in_(of_exam))
            .scalar_subquery(),
            select(func.count(HelpRequest.id))
            .where(HelpRequest.candidate_id.in_(of_exam), waiting_for_reply)
            .scalar_subquery(),
            select(func.count(Violation.id))
            .where(Violation.candidate_id.in_(of_exam))
            .scalar_subquery(),
            select(func.count(AuditEvent.id))
            .where(AuditEvent.exam_id == exam_id, AuditEvent.kind == SWITCH_KIND)
            .where(AuditEvent.candidate_id.is_not(None))
            .scalar_subquery(),
        )
    ).one()
    return {
        "matching": matching or 0,
        "attention": attention or 0,
        "help_total": help_total or 0,
        "help_unreplied": help_unreplied or 0,
        "violations": violations or 0,
        "switches": switches or 0,
    }


def _attention_names(exam_id: int, needs_attention) -> list[tuple[int, str, str | None]]:
    """The first few who need attention, for the box above the table: (id, name, panel)."""
    return [
        (cid, name, panel_name)
        for cid, name, panel_name in db.session.execute(
            select(Candidate.id, Candidate.name, Panel.name)
            .outerjoin(Panel, Panel.id == Candidate.panel_id)
            .where(Candidate.exam_id == exam_id, needs_attention)
            .order_by(
                Panel.name, Candidate.lot_number.is_(None), Candidate.lot_number, Candidate.id
            )
            .limit(ATTENTION_SHOWN)
        )
    ]


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
    "candidate.login": _l("Candidate signed in"),
    "candidate.code_refused": _l("Invitation code refused"),
    "candidate.notice_ack": _l("Read the exam attachments (marked as read)"),
    "candidate.id_photo": _l("Uploaded the ID card photo"),
    "candidate.id_photo_viewed": _l("Assistant viewed the ID card photo"),
    "candidate.help": _l("Candidate asked for help"),
    "candidate.suspected_switch": _l("Suspected switch away from the page"),
    "candidate.taken_over": _l("Signed in in another window (took over)"),
    "candidate.face_consent": _l("Accepted the face-check notice"),
    "face.identity_compared": _l("Face compared with the ID photo"),
    "face.signal": _l("Face check signal"),
    "face.stills_stopped": _l("Camera stills stopped arriving"),
    "help.replied": _l("Staff replied to the help request"),
    "help.resolved": _l("Help request closed"),
    "supervisor.assigned": _l("Supervisor assigned"),
    "supervisor.removed": _l("Supervisor removed"),
    "violation.flagged": _l("Violation flagged"),
    "journey.confirm": _l("Confirmed attendance"),
    "journey.decline": _l("Declined to attend"),
    "journey.expire_confirmation": _l("Not confirmed by the deadline (treated as declined)"),
    "journey.enter_debug": _l("Entered the debug queue"),
    "journey.call_debug": _l("Assistant called for the device check"),
    "journey.cancel_debug_call": _l("Device check call cancelled"),
    "journey.lapse_debug_call": _l("Device check call not answered in time"),
    "journey.accept_debug": _l("Accepted the device check call"),
    "journey.check_identity": _l("Identity checked"),
    "journey.end_debug": _l("Device check call ended"),
    "journey.mark_debugged": _l("Device check done"),
    "journey.enter_waiting": _l("Entered the interview waiting room"),
    "journey.draw_lot": _l("Drew a lot"),
    "journey.lot_assigned": _l("Lot number assigned by the system"),
    "journey.call_interview": _l("Chief examiner called to the interview"),
    "journey.lapse_interview_call": _l("Interview call not answered in time"),
    "journey.accept_interview": _l("Accepted the interview call"),
    "journey.send_back": _l("Sent back to the waiting queue"),
    "journey.start_timer": _l("Timer started"),
    "journey.finish": _l("Interview over"),
    "journey.enter_rest": _l("Entered the rest room"),
    "journey.release": _l("Released from the rest room"),
    "journey.mark_absent": _l("Not in the device check by the entry cut-off (absent)"),
    "journey.mark_absent_in_debug": _l(
        "Device check unfinished and not in the waiting room after the entry cut-off: marked absent"
    ),
    "journey.mark_no_show": _l("Did not answer the call: marked absent by the chief examiner"),
    "journey.disqualify": _l("Disqualified"),
    "journey.reinstate": _l("Reinstated by the exam office"),
    "journey.reinterview": _l("Re-interview after a platform fault"),
    "journey.extend_interview": _l("Extend the interview after a platform fault"),
    "journey.move_panel": _l("Move to another panel"),
    "journey.undo_disqualification": _l("Undo a disqualification"),
    "journey.call_spot_check": _l("Assistant started a spot check (video call)"),
    "journey.call_back": _l("Assistant called back by video"),
    "journey.accept_spot_check": _l("Accepted the assistant's video call"),
    "journey.end_spot_check": _l("Assistant ended the video call"),
    "journey.lapse_spot_check": _l("Assistant's video call not answered in time"),
    "spot_check.superseded": _l("Assistant's video call ended by a formal call"),
    "call.videoConferenceJoined": _l("Joined the video call"),
    "call.videoConferenceLeft": _l("Left the video call"),
    "call.recordingStatusChanged": _l("Recording status changed"),
    "call.errorOccurred": _l("Call error"),
    "call.participant_removed": _l("Removed from the interview room by the chief examiner's page"),
    "score.published": _l("Score published"),
    "score.seen_by_candidate": _l("Candidate viewed the score"),
    # issue 16: the second camera as the staff pages see it (app/day/second_camera.py)
    "second_camera.joined": _l("Staff page saw the second camera join the call"),
    "second_camera.connected": _l("Second camera connected (camera on)"),
    "second_camera.left": _l("Second camera disconnected (left the call)"),
    "second_camera.video_off": _l("Second camera turned off"),
    "second_camera.silent": _l("Second camera disconnected (no response for a long time)"),
    "journey.verify_second_camera": _l("Second camera checked (assistant confirmed the angle)"),
    "call.participantJoined": _l("Someone joined the video call"),
    "call.participantLeft": _l("Someone left the video call"),
    "call.readyToClose": _l("Video call closed"),
    "call.cameraError": _l("Camera error"),
    "call.micError": _l("Microphone error"),
    "candidate.code_limited": _l("Too many invitation code attempts: temporarily limited"),
    "candidate.code_regenerated": _l("Exam office regenerated the invitation code"),
    "candidate.panel_assigned": _l("Panel assigned"),
    "score.submitted": _l("Scores submitted"),
    "score.changed": _l("Scores corrected"),
    "score.final_recomputed": _l("Final score recomputed"),
    "score.corrected": _l("Published score corrected"),
    "score.recused": _l("Examiner recused"),
    "score.confirmed": _l("Chief examiner confirmed the score"),
    # Exam-wide events (no candidate's timeline, but every audit kind has words).
    "broadcast.posted": _l("Waiting-room notice posted"),
    "candidates.imported": _l("Candidate list imported"),
    "demo.seeded": _l("Demo data created"),
    "exam.created": _l("Exam created"),
    "exam.updated": _l("Exam settings changed"),
    "exam.entry_closed": _l("Entry closed now"),
    "notice.created": _l("Exam attachment added"),
    "notice.updated": _l("Exam attachment changed"),
    "notice.deleted": _l("Exam attachment deleted"),
    "panel.created": _l("Panel created"),
    "panel.renamed": _l("Panel renamed"),
    "panel.staffed": _l("Panel staff set"),
    "panel.rest_room_released": _l("Rest room released"),
    "question_set.created": _l("Question set added"),
    "question_set.updated": _l("Question set changed"),
    "question_set.deleted": _l("Question set deleted"),
    "score_sheet.dimension_added": _l("Score dimension added"),
    "score_sheet.dimension_changed": _l("Score dimension changed"),
    "score_sheet.dimension_removed": _l("Score dimension removed"),
    "score_sheet.reordered": _l("Score dimensions reordered"),
    "score_sheet.usual_sheet_added": _l("Usual score sheet added"),
    "staff.created": _l("Staff account created"),
    "staff.updated": _l("Staff account changed"),
    "staff.login": _l("Staff signed in"),
    "staff.language_changed": _l("Staff switched the interface language"),
    "staff.login_failed": _l("Staff sign-in failed"),
    "staff.login_locked": _l("Staff account temporarily locked"),
    "staff.login_unlocked": _l("Staff account unlocked"),
    "staff.logout": _l("Staff signed out"),
    # Backups and retention (app/backup, app/retention)
    "backup.created": _l("Backup created"),
    "candidate.review_hold": _l("Held for review (open dispute)"),
    "candidate.review_closed": _l("Review closed"),
    "retention.purged": _l("Stored personal data deleted (retention period over)"),
    "retention.purge_run": _l("Retention purge run"),
}

# Shown on every line of the event already (time, actor) or meaningless to a reader.
HIDDEN_KEYS = {"before", "after"}


@dataclass
class TimelineEntry:
    event: AuditEvent
    label: str
    details: list[tuple[str, str]]
    change: tuple[str, str] | None
    actor: str = ""  # who, by name and role: "张老师（考官）", "考生本人", "系统"


ACTOR_TYPES = {
    "candidate": _l("The candidate"),
    "system": _l("The system"),
    "anonymous": _l("Anonymous"),
}


def _actor_words(event: AuditEvent, people: dict[int, User]) -> str:
    if event.actor_type == "staff" and event.actor_id in people:
        user = people[event.actor_id]
        role = ROLE_LABELS.get(Role(user.role), user.role)
        return (
            f"{user.display_name}（{role}）" if _in_chinese() else f"{user.display_name} ({role})"
        )
    return str(ACTOR_TYPES.get(event.actor_type or "", event.actor_label or event.actor_type or ""))


def _examiner_name(data: dict, people: dict[int, User]) -> str:
    examiner = people.get(_as_int(data.get("examiner")) or 0)
    if examiner is not None:
        return examiner.display_name
    return _("Examiner #%(id)s", id=data.get("examiner"))


def _paper_words() -> str:
    return _(" (entered by the exam office from the paper score sheet)")


def _in_chinese() -> bool:
    locale = get_locale()
    return locale is None or locale.language == "zh"


def _dimension_name(dims: dict[int, str], key) -> str:
    name = dims.get(_as_int(key) or 0)
    return name if name is not None else _("Dimension #%(id)s", id=key)


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
        paper = _paper_words() if data.get("paper") else ""
        return _(
            "Scores submitted: %(examiner)s, total %(total)s%(paper)s",
            examiner=_examiner_name(data, people),
            total=data.get("total"),
            paper=paper,
        )
    if kind == "score.changed":
        before, after = data.get("before") or {}, data.get("after") or {}
        changes = [
            f"{_dimension_name(dims, key)} {before.get(key, '—')} → {value}"
            for key, value in after.items()
            if str(before.get(key)) != str(value)
        ]
        paper = _paper_words() if data.get("paper") else ""
        what = ("；" if _in_chinese() else "; ").join(changes) or _("no value changed")
        return _(
            "Scores corrected%(paper)s: %(examiner)s: %(what)s",
            paper=paper,
            examiner=_examiner_name(data, people),
            what=what,
        )
    if kind in ("score.final_recomputed", "score.corrected"):
        values = {"before": data.get("before"), "after": data.get("after")}
        if kind == "score.corrected":
            return _(
                "Published score corrected: %(before)s → %(after)s; the candidate must confirm"
                " again",
                **values,
            )
        return _("Final score recomputed: %(before)s → %(after)s", **values)
    if kind == "score.recused":
        return _("Examiner recused: %(examiner)s", examiner=_examiner_name(data, people))
    if kind == "score.confirmed":
        if data.get("published"):
            return _(
                "Chief examiner confirmed the score: %(final)s, published", final=data.get("final")
            )
        return _(
            "Chief examiner confirmed the score: %(final)s, to be published by the exam office",
            final=data.get("final"),
        )
    return None


def _state_label(value) -> str:
    try:
        return str(STATE_LABELS[CandidateState(value)])
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
    parts = [_("timer from %(when)s", when=_when(started)) if started else _("timer not started")]
    parts.append(_("%(n)s score sheets", n=len(voided.get("sheets") or [])))
    result = voided.get("result")
    if result:
        parts.append(_("confirmed score %(score)s", score=result.get("final_score")))
    return _(
        "%(parts)s: all void (the original records stay in the audit log); first in the"
        " panel's waiting queue",
        parts=("，" if _in_chinese() else ", ").join(parts),
    )


def _override_words(kind: str, data: dict) -> str | None:
    """An override's line in words: what was done, with its minutes, panels and lot."""
    lot = _("; lot %(lot)s (after those already drawn)", lot=data["lot"]) if data.get("lot") else ""
    if kind == "journey.reinstate":
        return _(
            "Reinstated by the exam office, back to “%(state)s”%(lot)s",
            state=_state_label(data.get("after")),
            lot=lot,
        )
    if kind == "journey.reinterview":
        return _("Re-interview after a platform fault: %(voided)s", voided=_voided(data))
    if kind == "journey.extend_interview":
        minutes = data.get("minutes")
        if data.get("until"):
            return _(
                "Interview extended by %(minutes)s minutes after a platform fault, now ending"
                " %(until)s",
                minutes=minutes,
                until=_when(data["until"]),
            )
        return _(
            "Interview extended by %(minutes)s minutes after a platform fault", minutes=minutes
        )
    if kind == "journey.move_panel":
        return _(
            "Moved to another panel: %(source)s → %(target)s%(lot)s",
            source=data.get("from_panel") or "—",
            target=data.get("to_panel"),
            lot=lot,
        )
    if kind == "journey.undo_disqualification":
        return _(
            "Disqualification undone, back to “%(state)s”%(lot)s",
            state=_state_label(data.get("after")),
            lot=lot,
        )
    return None


SPOT_CHECK_WORDS = {"spot_check": _l("Spot check"), "call_back": _l("Video call-back")}
SPOT_CHECK_OUTCOMES = {
    "journey.call_spot_check": _l("started by the assistant, waiting for the candidate to accept"),
    "journey.call_back": _l("started by the assistant, waiting for the candidate to accept"),
    "journey.accept_spot_check": _l("accepted by the candidate (in the call)"),
    "journey.end_spot_check": _l("the assistant ended the call"),
    "journey.lapse_spot_check": _l("the candidate did not accept in time (timed out)"),
}
SUPERSEDED_BY = {
    "interview": _l("Chief examiner called to the interview"),
    "debug": _l("Assistant called for the device check"),
}


def _spot_check_words(kind: str, data: dict) -> str | None:
    """A spot check's or call-back's line: which of the two, and its outcome."""
    what = SPOT_CHECK_WORDS.get(str(data.get("call_kind"))) or _l("Video call")
    if kind in SPOT_CHECK_OUTCOMES:
        return _(
            "%(what)s (assistant's video call): %(outcome)s",
            what=what,
            outcome=SPOT_CHECK_OUTCOMES[kind],
        )
    if kind == "spot_check.superseded":
        by = SUPERSEDED_BY.get(str(data.get("by_call"))) or _l("a formal call")
        return _("%(what)s (assistant's video call): ended by %(by)s", what=what, by=by)
    return None


# What retention deleted, by the kind's name (app/retention/kinds.py names them the same).
RETAINED_KINDS = {"recordings": _l("a recording"), "id_photos": _l("the ID card photo")}


def _retention_words(kind: str, data: dict) -> str | None:
    """A review hold, its closing, or what a purge deleted, in words; the reason is the detail."""
    if kind in ("candidate.review_hold", "candidate.review_closed"):
        return str(KIND_LABELS[kind])
    if kind == "retention.purged":
        what = RETAINED_KINDS.get(str(data.get("data_kind"))) or data.get("data_kind")
        return _("Deleted at the end of its retention period: %(what)s", what=what)
    return None


TIMELINE_PAGE_SIZE = 200  # events per page of the timeline; the CSV has them all


def timeline_count(candidate: Candidate) -> int:
    return (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.candidate_id == candidate.id)
        )
        or 0
    )


def timeline(
    candidate: Candidate, *, limit: int | None = None, offset: int = 0
) -> list[TimelineEntry]:
    """The audit events about the candidate, oldest first (the log is append-only): all of
    them, or `limit` from `offset` (a page)."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.candidate_id == candidate.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    events = list(db.session.scalars(query))
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
        label = str(KIND_LABELS.get(event.kind, event.kind))
        words = (
            _override_words(event.kind, data)
            or _spot_check_words(event.kind, data)
            or _score_words(event.kind, data, people, dims)
            or _retention_words(event.kind, data)
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
        signal = signal_words(event.kind, data) or face_words(event.kind, data)
        if words is not None:
            # The line says it all; the full values (a voided attempt) stay in the audit log.
            label = words
            details = [(_("reason"), str(data["reason"]))] if data.get("reason") else []
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
# The CSV is a file: worded in Chinese as it always was, whatever HR's language.
FILE_LOCALE = "zh_CN"


def timeline_csv(candidate: Candidate) -> bytes:
    with force_locale(FILE_LOCALE):
        return csv_bytes(TIMELINE_HEADER, timeline_rows(timeline(candidate)))


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
