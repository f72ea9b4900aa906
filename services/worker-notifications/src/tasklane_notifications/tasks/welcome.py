from __future__ import annotations

from typing import Any

from celery import Task

from tasklane.contracts.notifications import SEND_WELCOME_EMAIL, SendWelcomeEmail
from tasklane.db.models import User
from tasklane.errors import PermanentTaskError
from tasklane_notifications.notifier import nothing_to_send
from tasklane_notifications.service import EMAIL, notifier, runtime


@runtime.task(SEND_WELCOME_EMAIL, **EMAIL)
def send_welcome_email(task: Task, payload: SendWelcomeEmail) -> dict[str, Any]:
    """Welcome a newly registered user, once."""
    with runtime.database.session() as session:
        user = session.get(User, payload.user_id)
    if user is None:
        raise PermanentTaskError(f"user {payload.user_id} does not exist")
    if user.deactivated_at is not None:
        return nothing_to_send("user is deactivated")
    business = notifier.business(user.business_id)
    result = notifier.send(
        task,
        business=business,
        template="welcome",
        dedupe_key=f"welcome:{user.id}",
        context={"user_name": user.name, "user_email": user.email, "owner_email": business.owner_email},
        recipients=[user.email],
    )
    return {"sent": result["sent"], "recipients": result["recipients"]}
