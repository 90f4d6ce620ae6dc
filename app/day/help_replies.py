"""求助: whose help requests a staff member sees, and answering one (assistant and HR alike).

A candidate with a panel asks her panel's assistants; one with no panel yet (before HR assigns
her, or on a panel without an assistant) would reach nobody, so her request goes to every
assistant of her exam, and HR sees and answers every request of the exam on /hr/exams/<id>/help.

Two staff answering the same request at once: the first answer wins. Each reply form carries
the reply it showed (`seen`, the stamp of `replied_at`, empty when unanswered); the request is
row-locked, and a reply whose form saw an older answer than the one stored is refused, naming
who answered and what, so nobody overwrites a colleague's answer unseen. Closing (resolve) never
conflicts: closing a closed request changes nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, or_, select

from app import audit, db
from app.day.poll_versions import bump_candidate
from app.models import Candidate, HelpRequest, Panel, Role, User

REPLY_MAX = 500
# The staff who see the candidate's phone number (HR's data) in full; others get it masked.
PHONE_ROLES = frozenset({Role.HR, Role.ADMIN, Role.ASSISTANT})


class HelpReplyRefused(ValueError):
    """A reply not saved; `message` (in the staff member's language) says why, `status` the HTTP code."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class HelpAnswer:
    help_request: HelpRequest
    candidate: Candidate
    replied: bool
    resolved: bool

    @property
    def message(self) -> str:
        return _("Replied.") if self.replied else _("Resolved.")


def phone_for(user: User, candidate: Candidate) -> str:
    """The candidate's phone as `user` may see it: in full for HR and assistants, else masked."""
    return candidate.phone if user.role in PHONE_ROLES else candidate.masked_phone


def seen_stamp(help_request: HelpRequest) -> str:
    """What a reply form carries as `seen`: the answer it shows ("" when none yet)."""
    moment = help_request.replied_at
    return str(int(moment.timestamp() * 1_000_000)) if moment is not None else ""


def assistant_scope(panels: list[Panel]) -> ColumnElement[bool]:
    """Help requests an assistant of `panels` sees: her panels' candidates, and those of her
    exams who have no panel."""
    panel_ids = [p.id for p in panels]
    exam_ids = sorted({p.exam_id for p in panels})
    return or_(
        Candidate.panel_id.in_(panel_ids),
        Candidate.panel_id.is_(None) & Candidate.exam_id.in_(exam_ids),
    )


def exam_scope(exam_id: int) -> ColumnElement[bool]:
    """Help requests HR sees on an exam's help page: every candidate's of the exam."""
    return Candidate.exam_id == exam_id


def help_request_in(scope: ColumnElement[bool], help_id: int) -> HelpRequest | None:
    """The help request if it lies in `scope`, else None (someone else's does not exist)."""
    return db.session.scalar(
        select(HelpRequest)
        .join(Candidate, Candidate.id == HelpRequest.candidate_id)
        .where(HelpRequest.id == help_id, scope)
    )


def _who(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.display_name if user is not None else _("another staff member")


def answer_help_form(help_id: int, staff: User, form: Mapping[str, str], now: datetime):
    """`answer_help` with what a reply form posts (reply, resolve=1, seen): the assistant's
    queue and HR's help page send the same form."""
    return answer_help(
        help_id,
        staff,
        form.get("reply") or "",
        form.get("resolve") == "1",
        form.get("seen") or "",
        now,
    )


def answer_help(
    help_id: int, staff: User, reply: str, resolve: bool, seen: str, now: datetime
) -> HelpAnswer:
    """Save a reply and/or close the request, audited, in one transaction (committed here).

    Raises HelpReplyRefused for an empty or too long reply, a closed request, or a reply that
    another staff member's answer overtook since the form was shown (first answer wins)."""
    reply = (reply or "").replace("\r\n", "\n").strip()
    if not reply and not resolve:
        raise HelpReplyRefused(_("Write a reply first."), 422)
    if len(reply) > REPLY_MAX:
        raise HelpReplyRefused(_("At most %(n)s characters in a reply.", n=REPLY_MAX), 422)
    help_request = db.session.scalar(
        select(HelpRequest)
        .where(HelpRequest.id == help_id)
        .with_for_update()
        # The lock may have waited for a colleague's commit: read what they wrote.
        .execution_options(populate_existing=True)
    )
    if help_request is None:
        raise HelpReplyRefused(_("No such help request."), 404)
    candidate = db.session.get(Candidate, help_request.candidate_id)
    assert candidate is not None, "help requests belong to a candidate"
    if help_request.resolved_at is not None:
        db.session.rollback()
        if not reply:
            return HelpAnswer(help_request, candidate, replied=False, resolved=False)
        raise HelpReplyRefused(
            _(
                "Already closed by %(who)s: your reply was not saved.",
                who=_who(help_request.replied_by_id),
            )
        )
    if reply and seen_stamp(help_request) != (seen or "").strip():
        answered = help_request.reply or ""
        who = _who(help_request.replied_by_id)
        db.session.rollback()
        raise HelpReplyRefused(
            _(
                "%(who)s answered first: “%(reply)s”. Your reply was not saved; send it again"
                " to add to it.",
                who=who,
                reply=answered,
            )
        )
    if reply:
        help_request.reply = reply
        help_request.replied_by_id = staff.id
        help_request.replied_at = now
    if resolve:
        help_request.resolved_at = now
    audit.record(
        "help.replied" if reply else "help.resolved",
        candidate=candidate,
        actor=staff,
        help_request=help_request.id,
        reply=reply or None,
        resolved=resolve,
        by_role=staff.role,
    )
    db.session.commit()
    bump_candidate(candidate)  # the candidate's page shows the reply at its next poll
    return HelpAnswer(help_request, candidate, replied=bool(reply), resolved=resolve)
