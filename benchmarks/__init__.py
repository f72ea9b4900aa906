"""Benchmarks that print figures side by side in one run (`make bench`); never timed assertions."""
