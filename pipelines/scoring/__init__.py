"""Scoring: normalise leaf values to points, aggregate up the tree, rank and classify."""
