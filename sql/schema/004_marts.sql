-- Marts, one table per scoring stage, and immutable snapshots.
-- Stage 1 (component scores): each leaf's value normalised to points, missing rule applied.
CREATE TABLE IF NOT EXISTS leaf_scores (
    year        INTEGER NOT NULL,
    level       VARCHAR NOT NULL,
    method      VARCHAR NOT NULL,             -- points | minmax | zscore
    group_id    VARCHAR NOT NULL,             -- comparison group (the level, or parent district)
    unit_id     VARCHAR NOT NULL,
    node_id     VARCHAR NOT NULL,
    value       DOUBLE,                       -- the raw value scored (null: missing)
    normalised  DOUBLE,                       -- in [0, 1] before the missing rule
    z           DOUBLE,                       -- z-score method only
    points      DOUBLE NOT NULL,
    n_missing   INTEGER NOT NULL,             -- 1 when the missing-data rule gave the points
    PRIMARY KEY (year, level, method, unit_id, node_id)
);

-- Stage 2 (pillar and total): every node of the tree, views and composites.
CREATE TABLE IF NOT EXISTS node_scores (
    year        INTEGER NOT NULL,
    level       VARCHAR NOT NULL,
    method      VARCHAR NOT NULL,
    group_id    VARCHAR NOT NULL,
    unit_id     VARCHAR NOT NULL,
    node_id     VARCHAR NOT NULL,
    node_level  VARCHAR NOT NULL,             -- index | group | pillar | component | criterion | view
    ordinal     INTEGER NOT NULL,             -- document order of the node in its framework
    points      DOUBLE NOT NULL,
    max_points  DOUBLE NOT NULL,
    ratio       DOUBLE,
    z           DOUBLE,                       -- aggregated z (weighted by maximum points)
    n_missing   INTEGER NOT NULL,             -- leaves below this node scored by the missing rule
    PRIMARY KEY (year, level, method, unit_id, node_id)
);

-- Stage 3 (ranks): rank within the comparison group at every node, class on the total.
CREATE TABLE IF NOT EXISTS ranks (
    year         INTEGER NOT NULL,
    level        VARCHAR NOT NULL,
    method       VARCHAR NOT NULL,
    unit_id      VARCHAR NOT NULL,
    node_id      VARCHAR NOT NULL,
    rank         INTEGER NOT NULL,            -- ties share the lowest rank (1, 2, 2, 4)
    class_label  VARCHAR,
    PRIMARY KEY (year, level, method, unit_id, node_id)
);

-- Stage 4: immutable snapshots, identified by the hash of everything that determines them.
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id        VARCHAR PRIMARY KEY,
    year               INTEGER NOT NULL,
    level              VARCHAR NOT NULL,
    method             VARCHAR NOT NULL,
    params_json        VARCHAR NOT NULL,
    framework_id       VARCHAR NOT NULL,
    framework_version  VARCHAR NOT NULL,
    framework_hash     VARCHAR NOT NULL,
    input_hash         VARCHAR NOT NULL,       -- hash of the observations and units scored
    code_version       VARCHAR NOT NULL,
    content_hash       VARCHAR NOT NULL,       -- hash of the snapshot's score rows
    n_units            INTEGER NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    published_at       TIMESTAMP               -- set once; a published snapshot is never changed
);

CREATE TABLE IF NOT EXISTS snapshot_scores (
    snapshot_id  VARCHAR NOT NULL,
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
    PRIMARY KEY (snapshot_id, unit_id, node_id)
);
