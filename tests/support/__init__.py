"""Helpers for tests that need more than pytest: Chromium through Selenium, the tiny report site,
the claim-polling event log storage of the backfill test, and the xdist work units."""
