from __future__ import annotations

import re
import uuid
from datetime import date

from sqlalchemy.orm import Session

from tasklane.db.base import utcnow
from tasklane.db.models import Business
from tasklane.errors import PermanentTaskError


def load_business(session: Session, business_id: uuid.UUID) -> Business:
    business = session.get(Business, business_id)
    if business is None:
        raise PermanentTaskError(f"business {business_id} does not exist")
    return business


def generated_note() -> str:
    return f"generated {utcnow():%Y-%m-%d %H:%M} UTC"


def range_note(start: date, end: date) -> str:
    return f"{start.isoformat()} to {end.isoformat()} (UTC)"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "report"
