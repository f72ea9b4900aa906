"""Alert requests are their contracts' parameters (declared in ``tasklane.contracts.notifications``); the
alert settings are the API's own."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from tasklane.contracts.notifications import ExpiringProducts, LowStockAlert, StockMovementReport


class LowStockAlertRequest(LowStockAlert):
    pass


class StockMovementReportRequest(StockMovementReport):
    pass


class ExpiringProductsRequest(ExpiringProducts):
    pass


class AlertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low_credit_threshold: Decimal = Field(
        ge=0,
        max_digits=12,
        decimal_places=2,
        description="Alert once when a spend takes the balance below this.",
    )
    opted_out_user_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=10000,
        description="Users who receive no alerts (the owner always does).",
    )
