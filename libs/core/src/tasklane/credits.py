"""AI credit balances: every change is one atomic UPDATE plus a ledger row, never read-modify-write.

The low-credit alert is armed in the same UPDATE that spends: ``low_credit_alerted_at`` is set only by
the spend that takes the balance below the threshold while no alert is outstanding, so concurrent spends
produce exactly one crossing. It is cleared (re-armed) once the balance is back at or above the threshold.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tasklane.db.base import utcnow
from tasklane.db.models import Business, CreditLedgerEntry, LedgerKind


class InsufficientCredits(Exception):
    def __init__(self, balance: Decimal, amount: Decimal) -> None:
        super().__init__(f"insufficient credits: the balance is {balance}, the spend was {amount}")
        self.balance = balance


@dataclass(frozen=True)
class Spend:
    balance: Decimal
    threshold: Decimal
    crossed_threshold: bool
    reference: str
    replayed: bool = False


def _replay(session: Session, reference: str) -> Spend | None:
    entry = session.scalar(select(CreditLedgerEntry).where(CreditLedgerEntry.reference == reference))
    if entry is None:
        return None
    threshold = session.scalar(select(Business.low_credit_threshold).where(Business.id == entry.business_id))
    return Spend(entry.balance_after, threshold or Decimal(0), False, reference, replayed=True)


def usage_reference(business_id: uuid.UUID, idempotency_key: str | None) -> str:
    """The ledger reference of a spend: the same for every retry with one key, and of bounded length
    whatever the client's key is (a digest of it), so any key fits the column."""
    if not idempotency_key:
        return f"usage:{uuid.uuid4()}"
    digest = base64.urlsafe_b64encode(hashlib.sha256(idempotency_key.encode()).digest()).decode().rstrip("=")
    return f"usage:{business_id}:{digest}"


def spend_credits(
    session: Session,
    business_id: uuid.UUID,
    amount: Decimal,
    *,
    description: str,
    idempotency_key: str | None = None,
) -> Spend:
    """Deduct ``amount`` (within the caller's transaction) or raise ``InsufficientCredits``.

    With an ``idempotency_key`` a retried request returns the first outcome instead of spending again:
    the ledger's unique reference decides, even between concurrent retries.
    """
    reference = usage_reference(business_id, idempotency_key)
    if idempotency_key and (previous := _replay(session, reference)):
        return previous
    now = utcnow()
    new_balance = Business.credit_balance - amount
    try:
        with session.begin_nested():
            row = session.execute(
                update(Business)
                .where(Business.id == business_id, Business.credit_balance >= amount)
                .values(
                    credit_balance=new_balance,
                    low_credit_alerted_at=case(
                        (
                            and_(
                                new_balance < Business.low_credit_threshold,
                                Business.low_credit_alerted_at.is_(None),
                            ),
                            now,
                        ),
                        else_=Business.low_credit_alerted_at,
                    ),
                )
                .returning(
                    Business.credit_balance, Business.low_credit_threshold, Business.low_credit_alerted_at
                )
            ).one_or_none()
            if row is None:
                balance = session.scalar(select(Business.credit_balance).where(Business.id == business_id))
                raise InsufficientCredits(balance or Decimal(0), amount)
            session.add(
                CreditLedgerEntry(
                    business_id=business_id,
                    kind=LedgerKind.USAGE,
                    reference=reference,
                    delta=-amount,
                    balance_after=row.credit_balance,
                    description=description,
                )
            )
            session.flush()
    except IntegrityError:
        previous = _replay(session, reference) if idempotency_key else None
        if previous is None:
            raise
        return previous
    return Spend(row.credit_balance, row.low_credit_threshold, row.low_credit_alerted_at == now, reference)


def add_credits(
    session: Session,
    business_id: uuid.UUID,
    amount: Decimal,
    *,
    reference: str,
    kind: LedgerKind,
    description: str,
) -> Decimal:
    """Add ``amount`` to the balance (within the caller's transaction) with its ledger row; returns the
    new balance. The ledger's unique ``reference`` makes a second credit for the same reference fail with
    ``IntegrityError`` however the callers raced; an outstanding low-credit alert is re-armed if the
    balance is back at or above the threshold."""
    balance = session.execute(
        update(Business)
        .where(Business.id == business_id)
        .values(credit_balance=Business.credit_balance + amount)
        .returning(Business.credit_balance)
    ).scalar_one()
    session.add(
        CreditLedgerEntry(
            business_id=business_id,
            kind=kind,
            reference=reference,
            delta=amount,
            balance_after=balance,
            description=description,
        )
    )
    session.flush()
    rearm_low_credit_alert(session, business_id)
    return balance


def rearm_low_credit_alert(session: Session, business_id: uuid.UUID) -> None:
    """Clear an outstanding low-credit alert if the balance is back at or above the threshold."""
    session.execute(
        update(Business)
        .where(Business.id == business_id, Business.credit_balance >= Business.low_credit_threshold)
        .values(low_credit_alerted_at=None)
    )
