-- Read models for people and notebooks, recreated on every connection (no data of their own).
CREATE OR REPLACE VIEW scores AS
SELECT n.year, n.level, n.method, n.group_id, n.unit_id, n.node_id, n.node_level, n.ordinal,
       n.points, n.max_points, n.ratio, n.z, r.rank, r.class_label, n.n_missing
FROM node_scores AS n
JOIN ranks AS r USING (year, level, method, unit_id, node_id);

CREATE OR REPLACE VIEW latest_snapshots AS
SELECT *
FROM snapshots
QUALIFY row_number() OVER (
    PARTITION BY year, level, method ORDER BY created_at DESC, snapshot_id
) = 1;

CREATE OR REPLACE VIEW unit_totals AS
SELECT s.year, s.level, s.method, s.group_id, s.unit_id, u.name AS unit_name,
       s.points, s.max_points, s.ratio, s.rank, s.class_label, s.n_missing
FROM scores AS s
LEFT JOIN units AS u USING (unit_id)
WHERE s.node_level = 'index';
