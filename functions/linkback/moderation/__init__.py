"""Moderation: the owner's decisions (single, bulk, one-click), and what an owner is shown."""
