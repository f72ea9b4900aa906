from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.exc import IntegrityError

from tasklane.contracts.notifications import SEND_WELCOME_EMAIL, SendWelcomeEmail
from tasklane.db.models import User
from tasklane.errors import BrokerUnavailable
from tasklane.publishing import enqueue
from tasklane_api.deps import CeleryDep, CurrentBusiness, SessionDep
from tasklane_api.schemas.errors import BrokerUnavailableResponse, ErrorResponse
from tasklane_api.schemas.users import UserCreate, UserPublic

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"model": ErrorResponse, "description": "A user with this email already exists in the tenant."},
        503: {
            "model": BrokerUnavailableResponse,
            "description": "The task queue is down; nothing was created.",
        },
    },
)
def create_user(
    body: UserCreate, business: CurrentBusiness, session: SessionDep, celery: CeleryDep
) -> UserPublic:
    """Register a user and queue their welcome email (`notifications.send_welcome_email`); follow it at
    `welcome_email_task_id`. If the task queue is down nothing is created."""
    email = str(body.email).lower()
    user = User(business_id=business.id, email=email, name=body.name)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"email: a user with email {email} already exists"
        ) from None
    try:
        record = enqueue(
            session, celery, SEND_WELCOME_EMAIL, SendWelcomeEmail(user_id=user.id), business_id=business.id
        )
    except BrokerUnavailable:
        # A user without their welcome email would be half a registration: undo it, so a retry starts clean.
        session.delete(user)
        session.commit()
        raise
    return UserPublic.model_validate(user).model_copy(update={"welcome_email_task_id": record.id})
