"""Beat's Celery app (``celery --app tasklane_beat.app beat``), configured from the environment."""

from __future__ import annotations

from tasklane.settings import load_settings
from tasklane_beat.factory import create_beat_app

app = create_beat_app(load_settings())
