"""The DuckDB warehouse: schema migrations, the writer's lock, reference data, checks."""
