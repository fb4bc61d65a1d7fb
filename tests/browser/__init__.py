"""Browser tests: the status pages in a real headless Chromium against the real stack."""
