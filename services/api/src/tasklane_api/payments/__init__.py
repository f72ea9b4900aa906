"""Payment providers and the webhook intake: verify, store durably, then queue."""
