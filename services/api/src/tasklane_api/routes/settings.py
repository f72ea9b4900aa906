from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select, update

from tasklane.credits import rearm_low_credit_alert
from tasklane.db.models import Business, User
from tasklane_api.deps import CurrentBusiness, SessionDep
from tasklane_api.schemas.alerts import AlertSettings
from tasklane_api.schemas.errors import ErrorResponse

router = APIRouter(prefix="/v1/settings", tags=["settings"])


def _current(session: SessionDep, business: Business) -> AlertSettings:
    opted_out = session.scalars(
        select(User.id)
        .where(User.business_id == business.id, User.alerts_opt_out.is_(True))
        .order_by(User.id)
    ).all()
    return AlertSettings(
        low_credit_threshold=business.low_credit_threshold, opted_out_user_ids=list(opted_out)
    )


@router.get("/alerts")
def get_alert_settings(business: CurrentBusiness, session: SessionDep) -> AlertSettings:
    """The low-credit threshold and the users who opted out of alerts."""
    return _current(session, business)


@router.put(
    "/alerts", responses={404: {"model": ErrorResponse, "description": "A user id is not the tenant's."}}
)
def put_alert_settings(body: AlertSettings, business: CurrentBusiness, session: SessionDep) -> AlertSettings:
    """Replace the low-credit threshold and the users who receive no alerts (the owner always does)."""
    opted_out = set(body.opted_out_user_ids)
    known = set(
        session.scalars(select(User.id).where(User.business_id == business.id, User.id.in_(opted_out)))
    )
    if missing := sorted(str(i) for i in opted_out - known):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"opted_out_user_ids: users not found: {', '.join(missing)}"
        )
    session.execute(
        update(Business)
        .where(Business.id == business.id)
        .values(low_credit_threshold=body.low_credit_threshold)
    )
    session.execute(
        update(User).where(User.business_id == business.id).values(alerts_opt_out=User.id.in_(opted_out))
    )
    rearm_low_credit_alert(session, business.id)
    session.commit()
    return _current(session, session.get_one(Business, business.id))
