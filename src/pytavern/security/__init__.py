"""Security building blocks the server composes: listen checks, passwords, allow lists,
login rate limits, CSRF tokens and outbound URL rules. All pure or in-memory."""
