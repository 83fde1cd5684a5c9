"""Notifying the owner: the announcer, mail and signed webhooks."""
