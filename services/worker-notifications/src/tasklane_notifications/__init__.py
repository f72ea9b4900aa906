"""Tasklane's notifications worker."""
