"""Receiving: the three protocols' requests and replies (no I/O) and the one intake path they share."""
