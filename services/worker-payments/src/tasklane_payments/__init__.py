"""Tasklane's payments worker."""

QUEUES = ("payments",)  # what it consumes unless told otherwise (--queues, TASKLANE_WORKER_QUEUES)
