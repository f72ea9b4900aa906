"""Beat's Celery app (``celery --app tasklane_beat.app beat``), configured from the environment, with its
telemetry: logs, Sentry (each entry a Crons monitor), traces of what it publishes, and on
``TASKLANE_METRICS_PORT`` the age of each entry's last run."""

from __future__ import annotations

from tasklane.settings import load_settings
from tasklane.telemetry.processes import install_beat
from tasklane_beat.factory import create_beat_app
from tasklane_beat.schedule import effective_schedule
from tasklane_beat.settings import BeatSettings
from tasklane_beat.state import schedule_collectors

settings = load_settings(BeatSettings)
app = create_beat_app(settings)
install_beat(settings, schedule_collectors(app, effective_schedule(settings)))
