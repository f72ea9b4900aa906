from __future__ import annotations

from typing import Any

from celery import Task
from sqlalchemy import select

from tasklane.contracts.notifications import SEND_WELCOME_EMAIL, SendWelcomeEmail
from tasklane.db.models import Business, User
from tasklane.errors import PermanentTaskError
from tasklane_notifications.notifier import nothing_to_send
from tasklane_notifications.service import EMAIL, notifier, runtime


@runtime.task(SEND_WELCOME_EMAIL, **EMAIL)
def send_welcome_email(task: Task, payload: SendWelcomeEmail) -> dict[str, Any]:
    """Welcome a newly registered user, once."""
    with runtime.database.session() as session:
        # The user and their business in one query: this task's database round trips are most of its cost.
        found = session.execute(
            select(User, Business)
            .join(Business, Business.id == User.business_id)
            .where(User.id == payload.user_id)
        ).one_or_none()
    if found is None:
        raise PermanentTaskError(f"user {payload.user_id} does not exist")
    user, business = found
    if user.deactivated_at is not None:
        return nothing_to_send("user is deactivated")
    result = notifier.send(
        task,
        business=business,
        template="welcome",
        dedupe_key=f"welcome:{user.id}",
        context={"user_name": user.name, "user_email": user.email, "owner_email": business.owner_email},
        recipients=[user.email],
    )
    return {"sent": result["sent"], "recipients": result["recipients"]}
