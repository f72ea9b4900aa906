"""Operator actions behind ``tasklane admin``: creating tenants and issuing their keys."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tasklane.apikeys import generate_api_key
from tasklane.db.models import ApiKey, Business


class AdminError(Exception):
    """An operator action that cannot be done as asked; the message says why."""


def create_business(
    session: Session, *, name: str, owner_email: str, credits: Decimal = Decimal("0")
) -> tuple[Business, str]:
    """Create a business and its first API key; returns the key, which is never retrievable again."""
    owner_email = owner_email.strip().lower()
    if session.scalar(select(Business.id).where(Business.owner_email == owner_email)) is not None:
        raise AdminError(f"a business owned by {owner_email} already exists")
    business = Business(name=name.strip(), owner_email=owner_email, credit_balance=credits)
    session.add(business)
    session.flush()
    return business, issue_api_key(session, business, name="initial")


def issue_api_key(session: Session, business: Business, *, name: str) -> str:
    new_key = generate_api_key()
    session.add(ApiKey(business_id=business.id, name=name, prefix=new_key.prefix, key_hash=new_key.digest))
    session.flush()
    return new_key.key


def find_business(session: Session, owner_email: str) -> Business:
    business = session.scalar(select(Business).where(Business.owner_email == owner_email.strip().lower()))
    if business is None:
        raise AdminError(f"no business is owned by {owner_email}")
    return business
