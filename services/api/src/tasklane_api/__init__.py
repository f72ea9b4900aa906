"""Tasklane's HTTP API."""
