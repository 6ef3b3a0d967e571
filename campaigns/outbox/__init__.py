"""The outbox: the only code that changes a message's status (see docs/outbox.md)."""
