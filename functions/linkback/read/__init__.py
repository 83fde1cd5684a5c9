"""The public read: the jf2 feed, counts and the widget asset."""
