"""Real, throwaway services for tests: PostgreSQL, Redis, SMTP, and managed subprocesses."""
