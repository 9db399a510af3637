"""Outgoing email: an outbox table, delivered by a background job (console or SMTP)."""
