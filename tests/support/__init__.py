"""Helpers for tests that need more than pytest: a headless Chromium driven over DevTools."""
