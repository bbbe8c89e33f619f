-- Snapshot versions: per year, level and method, version 1, 2, … in creation order;
-- published_version numbers the publications (1 = first publication, 2 = republication …).
CREATE OR REPLACE VIEW snapshot_versions AS
SELECT snapshot_id, year, level, method, created_at, published_at, content_hash,
       row_number() OVER (
           PARTITION BY year, level, method ORDER BY created_at, snapshot_id
       ) AS version,
       CASE WHEN published_at IS NOT NULL THEN row_number() OVER (
           PARTITION BY year, level, method, published_at IS NULL
           ORDER BY published_at, snapshot_id
       ) END AS published_version
FROM snapshots;
