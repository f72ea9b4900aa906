"""Renders shared by the chart tests: the defaults and every file of the value matrix, once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chart.helm import CI_VALUES, Manifest, render_cached


@pytest.fixture(scope="session")
def default_render() -> list[Manifest]:
    return render_cached()


@pytest.fixture(scope="session")
def matrix() -> dict[str, list[Manifest]]:
    """The value matrix (charts/tasklane/ci/*.yaml) rendered: file stem -> objects."""
    return {path.stem: render_cached(values_files=(path,)) for path in CI_VALUES}


def ci_file(stem: str) -> Path:
    (path,) = [p for p in CI_VALUES if p.stem == stem]
    return path
