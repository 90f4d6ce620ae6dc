"""Notices (考试附件): what the audit keeps of one, and when one may still be deleted."""

from sqlalchemy import select

from app import db
from app.models import Notice, NoticeAck


def notice_snapshot(notice: Notice) -> dict:
    return {"title": notice.title, "body": notice.body, "position": notice.position}


def notice_deletable(notice: Notice) -> bool:
    """Only while no candidate has read (acknowledged) it; it may be edited at any time."""
    query = select(NoticeAck.id).where(NoticeAck.notice_id == notice.id).limit(1)
    return db.session.scalar(query) is None
