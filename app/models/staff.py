from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.models.base import Model
from app.timeutil import UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    HR = "hr"
    ASSISTANT = "assistant"
    EXAMINER = "examiner"


ROLE_LABELS = {
    Role.ADMIN: "管理员 admin",
    Role.HR: "人事/考务 HR",
    Role.ASSISTANT: "面试助理 assistant",
    Role.EXAMINER: "考官 examiner",
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

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
