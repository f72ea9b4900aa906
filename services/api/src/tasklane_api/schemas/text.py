"""Text a client sends that ends up in the database. PostgreSQL cannot store NUL characters, so they are
refused here, as a 422 naming the field, instead of failing the INSERT with a 500. (Lone surrogates never
get this far: pydantic refuses them as not being a valid string.)"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


Text = Annotated[str, AfterValidator(_storable)]
