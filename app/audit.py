"""Writing to the append-only audit log.

`record()` adds the event to the current database session, so it commits or rolls back together
with the change it describes: there is never a logged change that did not happen, nor the reverse.
"""

from flask import g, has_request_context, request
from flask_login import current_user

from app import db
from app.models import AuditEvent, Candidate, User


def _actor() -> tuple[str, int | None, str]:
    if not has_request_context():
        return "system", None, ""
    if current_user and current_user.is_authenticated:
        return "staff", current_user.id, current_user.username
    candidate = g.get("candidate")
    if candidate is not None:
        return "candidate", candidate.id, f"candidate {candidate.id}"
    return "anonymous", None, ""


def record(
    kind: str,
    *,
    candidate: Candidate | None = None,
    exam_id: int | None = None,
    actor: User | None = None,
    **data,
) -> AuditEvent:
    actor_id: int | None
    if actor is not None:
        actor_type, actor_id, actor_label = "staff", actor.id, actor.username
    else:
        actor_type, actor_id, actor_label = _actor()
    if candidate is not None and exam_id is None:
        exam_id = candidate.exam_id
    event = AuditEvent(
        kind=kind,
        actor_type=actor_type,
        actor_id=actor_id,
        actor_label=actor_label,
        exam_id=exam_id,
        candidate_id=candidate.id if candidate is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        data=_jsonable(data),
    )
    db.session.add(event)
    return event


def _jsonable(data: dict) -> dict:
    """Dates and decimals as text, so the JSON column accepts them on every database."""
    out = {}
    for key, value in data.items():
        if value is None or isinstance(value, (str, int, float, bool, list, dict)):
            out[key] = value
        else:
            out[key] = str(value)
    return out
