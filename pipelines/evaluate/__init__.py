"""A year scored against the warehouse: the stages, appraisal, backfill, updates."""
