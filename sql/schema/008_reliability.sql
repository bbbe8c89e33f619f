-- Reliability (issue #7): the checksum of every applied migration file, so a warehouse refuses
-- to open when an applied migration was edited afterwards (never edit an applied migration:
-- add a new file). Filled in by pipelines.warehouse.migrate for this and every earlier file.
ALTER TABLE schema_migrations ADD COLUMN checksum VARCHAR;
