"""Email bodies from Jinja2 templates: ``<name>.subject.txt``, ``<name>.txt`` and ``<name>.html``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_env = Environment(
    loader=PackageLoader("tasklane_notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, **context: Any) -> RenderedEmail:
    return RenderedEmail(
        subject=_env.get_template(f"{name}.subject.txt").render(**context).strip(),
        text=_env.get_template(f"{name}.txt").render(**context),
        html=_env.get_template(f"{name}.html").render(**context),
    )
