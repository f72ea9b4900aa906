from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from tasklane.contracts.notifications import SEND_LOW_CREDIT_ALERT, SendLowCreditAlert
from tasklane.credits import InsufficientCredits, spend_credits
from tasklane.db.models import Business, CreditLedgerEntry
from tasklane.errors import BrokerUnavailable
from tasklane.publishing import dispatch, record_task
from tasklane_api.deps import CeleryDep, CurrentBusiness, SessionDep
from tasklane_api.schemas.credits import (
    CreditsPublic,
    CreditUsage,
    CreditUsageResult,
    InsufficientCreditsResponse,
    LedgerEntryPublic,
)
from tasklane_api.schemas.text import Text

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/credits", tags=["credits"])


@router.post(
    "/usage",
    response_model=CreditUsageResult,
    responses={
        409: {"model": InsufficientCreditsResponse, "description": "Not enough credits; nothing spent."}
    },
)
def use_credits(
    body: CreditUsage,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
    idempotency_key: Annotated[
        Text | None,
        Header(max_length=255, description="Retries with the same key spend once and get the first answer."),
    ] = None,
) -> CreditUsageResult | JSONResponse:
    """Spend AI credits atomically; the balance never goes below zero. A spend that takes the balance
    below the threshold queues the low-credit alert, whose task record commits with the spend. Send an
    `Idempotency-Key` header and retries spend once, answering the first outcome (`replayed: true`)."""
    try:
        spend = spend_credits(
            session, business.id, body.amount, description=body.description, idempotency_key=idempotency_key
        )
    except InsufficientCredits as exc:
        session.rollback()
        return JSONResponse(
            status_code=status.HTTP_409_CONFLICT,
            content={"detail": f"amount: {exc}", "balance": str(exc.balance)},
        )
    alert = None
    if spend.crossed_threshold:
        # The alert's record commits with the spend, so the alert cannot be lost even if the broker is down.
        alert = record_task(
            session,
            SEND_LOW_CREDIT_ALERT,
            SendLowCreditAlert(
                business_id=business.id, current_balance=spend.balance, threshold=spend.threshold
            ),
            business_id=business.id,
        )
    session.commit()
    if alert is not None:
        try:
            dispatch(session, celery, alert)
        except BrokerUnavailable:
            log.warning("low-credit alert %s stays queued until the broker is back", alert.id)
    return CreditUsageResult(
        balance=spend.balance, low_credit_alert_task_id=alert.id if alert else None, replayed=spend.replayed
    )


@router.get("", response_model=CreditsPublic)
def get_credits(
    business: CurrentBusiness,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many recent ledger entries.")] = 20,
) -> CreditsPublic:
    """The AI-credit balance, the alert threshold and the most recent ledger entries."""
    current = session.get_one(Business, business.id)
    entries = session.scalars(
        select(CreditLedgerEntry)
        .where(CreditLedgerEntry.business_id == business.id)
        .order_by(CreditLedgerEntry.created_at.desc(), CreditLedgerEntry.id.desc())
        .limit(limit)
    )
    return CreditsPublic(
        balance=current.credit_balance,
        low_credit_threshold=current.low_credit_threshold,
        entries=[LedgerEntryPublic.from_entry(e) for e in entries],
    )
