from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class LowStockAlertRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: list[uuid.UUID] | None = Field(
        None, min_length=1, max_length=1000, description="Only these products; all products when omitted."
    )


class StockMovementReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period_days: int = Field(7, ge=1, le=365, description="Days of movements to summarise.")


class ExpiringProductsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days_threshold: int = Field(
        30, ge=1, le=365, description="Report products expiring within this many days."
    )


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
