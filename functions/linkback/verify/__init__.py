"""Verifying: fetch the source safely, find the link to the target, extract what is shown, decide."""
