"""Git access shared by the web process (ls-remote for "Build now") and workers (checkouts)."""
