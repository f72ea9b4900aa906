"""Gunicorn configuration for the Tasklane API; every value comes from ``TASKLANE_API_*`` settings."""

from tasklane.settings import load_settings

_settings = load_settings()

wsgi_app = "tasklane_api.main:create_app()"
worker_class = "uvicorn_worker.UvicornWorker"
bind = _settings.api_bind
workers = _settings.api_workers
timeout = _settings.api_timeout
graceful_timeout = _settings.api_graceful_timeout
keepalive = _settings.api_keepalive
reuse_port = _settings.api_reuse_port
loglevel = _settings.log_level.lower()
accesslog = "-"
errorlog = "-"
# Workers start fresh (no preload): each builds its own database pool and broker connections.
preload_app = False
