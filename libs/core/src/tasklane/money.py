"""Money in the smallest currency unit, as payment providers count it."""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 minor-unit exponents that differ from the usual 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "UGX": 0, "XAF": 0, "XOF": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor_units(amount: Decimal, currency: str) -> int:
    scaled = amount.scaleb(minor_unit_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(scaled)


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))


def format_minor_units(amount_minor: int, currency: str) -> str:
    exponent = minor_unit_exponent(currency)
    return f"{currency.upper()} {from_minor_units(amount_minor, currency):,.{exponent}f}"
