"""API schemas, kept apart from the database models they are built from."""
