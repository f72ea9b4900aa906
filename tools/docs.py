"""``make docs``: regenerate every generated section of the README."""

from __future__ import annotations

from collections.abc import Callable

from tools import api_doc, chart_doc, schedule_doc, settings_doc
from tools.readme import replace_section

GENERATORS: dict[str, Callable[[], str]] = {
    settings_doc.SECTION: settings_doc.settings_table,
    api_doc.SECTION: api_doc.endpoints_table,
    schedule_doc.SECTION: schedule_doc.schedule_table,
    chart_doc.SECTION: chart_doc.values_table,
}


def main() -> None:
    for section, generate in GENERATORS.items():
        print(f"{section}: {'updated' if replace_section(section, generate()) else 'already current'}")


if __name__ == "__main__":
    main()
