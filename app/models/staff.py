import re
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app import db
from app.models.base import Model
from app.timeutil import UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    HR = "hr"
    ASSISTANT = "assistant"
    EXAMINER = "examiner"
    # 巡考: sees every panel of the exams assigned to them (ExamSupervisor), changes nothing.
    SUPERVISOR = "supervisor"


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.HR: _l("HR (exam office)"),
    Role.ASSISTANT: _l("Interview assistant"),
    Role.EXAMINER: _l("Examiner"),
    Role.SUPERVISOR: _l("Supervisor"),
}


class User(UserMixin, Model):
    """A staff account. Candidates are not users: they hold an invitation code, not a password."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id in every session cookie (get_id): bumping it signs out every session of
    # this account, and any copy of its cookies, at their next request.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The staff pages' language (app/i18n.LANGUAGES); None: the default, Simplified Chinese.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version or 0}"

    @classmethod
    def from_session_id(cls, session_id: str) -> "User | None":
        """The user a session's id names, if that session has not been revoked since. A bare
        "id" is a session from before session_version: valid until the account's first bump."""
        match = re.fullmatch(r"([0-9]{1,9})(?::([0-9]{1,9}))?", session_id or "")
        if match is None:
            return None
        user_id, version = match.groups()
        user = db.session.get(cls, int(user_id))
        if user is None or (user.session_version or 0) != int(version or 0):
            return None
        return user

    def revoke_sessions(self) -> None:
        self.session_version = (self.session_version or 0) + 1

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.revoke_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
