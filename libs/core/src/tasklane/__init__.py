"""Tasklane's shared core: settings, the Celery app factory, task contracts, database and task records."""
