"""Developer tooling for linkback: local stack, service launchers, CLI."""
