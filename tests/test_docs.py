from __future__ import annotations

from tasklane.settings_doc import END, START, settings_table
from tests.harness.stack import REPO


def test_the_readme_settings_table_matches_the_settings_model() -> None:
    readme = (REPO / "README.md").read_text()

    documented = readme.split(START, 1)[1].split(END, 1)[0].strip()

    assert documented == settings_table(), "run `make docs` to regenerate the README's settings table"
