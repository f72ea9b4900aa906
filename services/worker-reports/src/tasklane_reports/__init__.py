"""Tasklane's reports worker; it also hosts the maintenance tasks."""

# What it consumes unless told otherwise (--queues, TASKLANE_WORKER_QUEUES); `--queues maintenance` runs the
# maintenance tasks alone, as a worker set of their own.
QUEUES = ("reports", "maintenance")
