"""Who receives a business's notifications: its owner, plus active users who have not opted out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tasklane.db.models import Business, User


def business_recipients(session: Session, business: Business) -> list[str]:
    users = session.scalars(
        select(User.email)
        .where(User.business_id == business.id, User.deactivated_at.is_(None), User.alerts_opt_out.is_(False))
        .order_by(User.email)
    )
    return list(dict.fromkeys([business.owner_email, *users]))
