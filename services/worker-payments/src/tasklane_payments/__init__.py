"""Tasklane's payments worker."""
