"""Development tooling: generators for the README's reference tables. Never shipped in an image."""
