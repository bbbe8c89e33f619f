-- One warehouse per province: the preset whose data the warehouse holds (one row). A command or
-- run with another preset refuses (pipelines/warehouse_preset.py). A warehouse filled before
-- this table existed is claimed by the registry its units come from, when there is only one.
CREATE TABLE IF NOT EXISTS warehouse_preset (
    preset_id    VARCHAR PRIMARY KEY,
    preset_name  VARCHAR NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    recorded_by  VARCHAR NOT NULL     -- run | inferred from units
);

INSERT INTO warehouse_preset (preset_id, preset_name, recorded_by)
SELECT min(registry), min(registry), 'inferred from units'
FROM units
HAVING count(DISTINCT registry) = 1;
