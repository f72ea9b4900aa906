"""Notifications that went out, and reminders waiting to."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tasklane.db.base import Base, CreatedAt, UUIDPrimaryKey, str_enum, utcnow


class SentNotification(UUIDPrimaryKey, Base):
    """One row per logical notification sent; the unique ``dedupe_key`` is what makes sending exactly-once."""

    __tablename__ = "sent_notifications"

    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    business_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(60))
    recipients: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(String(300))
    task_id: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    CANCELLED = "cancelled"


class Reminder(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_status_remind_at", "status", "remind_at"),)

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(Text)
    remind_at: Mapped[datetime]
    recipients: Mapped[list[Any] | None]
    status: Mapped[ReminderStatus] = mapped_column(
        str_enum(ReminderStatus, "reminder_status"), default=ReminderStatus.PENDING
    )
    task_id: Mapped[str | None] = mapped_column(String(64))
    dispatched_at: Mapped[datetime | None]
