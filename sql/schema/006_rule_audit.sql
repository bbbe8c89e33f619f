-- Rule audit (issue #3, docs/scoring.md): which rule gave each leaf its points, which leaves and
-- nodes the "exclude" missing-data rule left out, and the successor grouping of a year before a
-- merger (pipelines/lineage.py).

-- e.g. "minmax(observed)", "missing.zero: no value → 0",
--      "sonla.dvctt_proportional(scope=pillar): 37.5/50 × 10"
ALTER TABLE leaf_scores ADD COLUMN rule_applied VARCHAR;
-- true: left out by missing = exclude (0 points stored, no ratio; the parent re-weights)
ALTER TABLE leaf_scores ADD COLUMN excluded BOOLEAN DEFAULT false;
ALTER TABLE node_scores ADD COLUMN excluded BOOLEAN DEFAULT false;

-- A year scored with the units as they are after a later merger (successors' values = the
-- unweighted mean of their predecessors' values). The year's own grouping stays in node_scores /
-- ranks; this table holds the other one, so trends can cross the merger.
CREATE TABLE IF NOT EXISTS lineage_scores (
    year         INTEGER NOT NULL,
    level        VARCHAR NOT NULL,
    method       VARCHAR NOT NULL,
    grouping     VARCHAR NOT NULL,            -- successors
    after_year   INTEGER NOT NULL,            -- the units are those existing in this year
    group_id     VARCHAR NOT NULL,
    unit_id      VARCHAR NOT NULL,
    node_id      VARCHAR NOT NULL,
    node_level   VARCHAR NOT NULL,
    points       DOUBLE NOT NULL,
    max_points   DOUBLE NOT NULL,
    ratio        DOUBLE,
    z            DOUBLE,
    rank         INTEGER NOT NULL,
    class_label  VARCHAR,
    n_missing    INTEGER NOT NULL,
    excluded     BOOLEAN,
    PRIMARY KEY (year, level, method, grouping, unit_id, node_id)
);
