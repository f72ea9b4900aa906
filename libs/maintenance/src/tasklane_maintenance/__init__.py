"""Maintenance tasks: retention clean-ups, and the reconciler that keeps the broker true to the records."""
