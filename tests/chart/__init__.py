"""Chart tests: render charts/tasklane with given values and assert on the objects (see helm.py)."""
