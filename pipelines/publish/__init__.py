"""Immutable snapshots, the code version they record, the annex, a year's figures."""
