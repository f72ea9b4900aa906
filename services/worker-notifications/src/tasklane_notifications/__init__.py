"""Tasklane's notifications worker."""

QUEUES = ("notifications",)  # what it consumes unless told otherwise (--queues, TASKLANE_WORKER_QUEUES)
