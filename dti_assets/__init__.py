"""The Dagster code location of dti: thin assets over ``pipelines``, grouped by stage."""
