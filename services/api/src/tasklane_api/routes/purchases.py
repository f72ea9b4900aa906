from __future__ import annotations

import secrets
import uuid

from fastapi import APIRouter, HTTPException, status
from fastapi.exceptions import RequestValidationError

from tasklane.db.models import CreditPurchase
from tasklane_api.deps import CurrentBusiness, SessionDep, SettingsDep
from tasklane_api.schemas.credits import CreditPurchaseCreate, CreditPurchasePublic
from tasklane_api.schemas.errors import ErrorResponse

router = APIRouter(prefix="/v1/credit-purchases", tags=["credits"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_purchase(
    body: CreditPurchaseCreate, business: CurrentBusiness, session: SessionDep, settings: SettingsDep
) -> CreditPurchasePublic:
    """Start buying credits: a `pending` purchase priced from `TASKLANE_CREDIT_PRICES`; hand its `reference`
    to the provider's checkout. It is paid when the provider's signed webhook confirms the amount."""
    currency = body.currency.upper()
    unit_price = settings.credit_prices.get(currency)
    if unit_price is None:
        accepted = ", ".join(sorted(settings.credit_prices))
        raise RequestValidationError(
            [
                {
                    "type": "enum",
                    "loc": ("body", "currency"),
                    "msg": f"must be one of {accepted}",
                    "input": currency,
                }
            ]
        )
    purchase = CreditPurchase(
        business_id=business.id,
        reference=f"TL-{secrets.token_hex(10).upper()}",
        provider=body.provider,
        credits=body.credits,
        amount_minor=body.credits * unit_price,
        currency=currency,
    )
    session.add(purchase)
    session.commit()
    return CreditPurchasePublic.from_purchase(purchase)


@router.get(
    "/{purchase_id}",
    responses={404: {"model": ErrorResponse, "description": "No such purchase for this tenant."}},
)
def get_purchase(
    purchase_id: uuid.UUID, business: CurrentBusiness, session: SessionDep
) -> CreditPurchasePublic:
    """A purchase's status: `pending`, `paid`, or `needs_review` (with the reason)."""
    purchase = session.get(CreditPurchase, purchase_id)
    if purchase is None or purchase.business_id != business.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"credit purchase {purchase_id} not found")
    return CreditPurchasePublic.from_purchase(purchase)
