"""Tasklane's reports worker."""
