"""The README's settings table, generated from the settings models so the documentation cannot drift.

Settings live with their owners: ``tasklane.settings.Settings`` holds what every process shares, and each
service that has settings of its own extends it. ``OWNERS`` lists them, in the table's order; every
``TASKLANE_*`` variable appears once, under the model that declares it.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticUndefined

from tasklane.settings import Settings
from tasklane_api.settings import ApiSettings
from tasklane_beat.settings import BeatSettings
from tasklane_maintenance.settings import MaintenanceSettings
from tasklane_notifications.settings import NotificationsSettings
from tasklane_payments.settings import PaymentsSettings

SECTION = "settings-table"

# (title, who reads it, model)
OWNERS: tuple[tuple[str, str, type[Settings]], ...] = (
    ("Every process", "`tasklane-core`: the API, every worker, beat and the `tasklane` CLI", Settings),
    ("API", "`tasklane-api`", ApiSettings),
    ("Notifications worker", "`tasklane-worker-notifications`", NotificationsSettings),
    ("Payments worker", "`tasklane-worker-payments`", PaymentsSettings),
    ("Maintenance tasks", "`tasklane-maintenance`, in the reports worker by default", MaintenanceSettings),
    ("Beat", "`tasklane-beat`", BeatSettings),
)


class AllSettings(ApiSettings, NotificationsSettings, PaymentsSettings, MaintenanceSettings, BeatSettings):
    """Every owner's settings in one model, for tools and tests that stand in for every process at once."""


def declared(model: type[Settings]) -> dict[str, Any]:
    """The fields ``model`` adds to the shared ``Settings`` (all of them, for ``Settings`` itself)."""
    if model is Settings:
        return dict(Settings.model_fields)
    return {name: f for name, f in model.model_fields.items() if name not in Settings.model_fields}


def setting_names() -> frozenset[str]:
    """Every ``TASKLANE_*`` variable any process reads."""
    return frozenset(f"TASKLANE_{name.upper()}" for name in AllSettings.model_fields)


def _default(value: Any) -> str:
    if value is None or value is PydanticUndefined:
        return "—"
    return f"`{value}`"


def settings_table() -> str:
    blocks = []
    for title, readers, model in OWNERS:
        rows = [f"**{title}** (read by {readers}; `{model.__module__}.{model.__name__}`)", ""]
        rows += ["| Variable | Default | Description |", "| --- | --- | --- |"]
        for name, field in declared(model).items():
            rows.append(
                f"| `TASKLANE_{name.upper()}` | {_default(field.default)} | {field.description or ''} |"
            )
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)
