"""The notifications queue's tasks, one module per kind; the worker's app module discovers them."""
