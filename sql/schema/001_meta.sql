-- Reference data: schema version, unit registry, framework versions and their nodes.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    applied_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS units (
    registry          VARCHAR NOT NULL,   -- e.g. daklak
    unit_id           VARCHAR NOT NULL,
    level             VARCHAR NOT NULL,   -- department | district | commune | province
    name              VARCHAR NOT NULL,
    short_name        VARCHAR,
    parent_id         VARCHAR,
    has_dvctt         BOOLEAN NOT NULL,
    has_subordinates  BOOLEAN NOT NULL,
    is_special        BOOLEAN NOT NULL,
    name_source       VARCHAR NOT NULL,   -- real | generated
    flags_source      VARCHAR NOT NULL,   -- decision | assumed
    valid_from        INTEGER,
    valid_to          INTEGER,
    PRIMARY KEY (registry, unit_id)
);

CREATE TABLE IF NOT EXISTS framework_versions (
    framework_hash  VARCHAR PRIMARY KEY,  -- content hash of everything that affects scores
    framework_id    VARCHAR NOT NULL,
    version         VARCHAR NOT NULL,
    name            VARCHAR NOT NULL,
    level           VARCHAR NOT NULL,
    scale           DOUBLE NOT NULL,
    valid_from      INTEGER,
    valid_to        INTEGER,
    source_json     VARCHAR NOT NULL,
    findings_json   VARCHAR NOT NULL,     -- declared-versus-listed discrepancies, etc.
    notes_json      VARCHAR NOT NULL,
    origin          VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS framework_nodes (
    framework_hash  VARCHAR NOT NULL,
    node_id         VARCHAR NOT NULL,
    parent_id       VARCHAR,
    node_level      VARCHAR NOT NULL,
    depth           INTEGER NOT NULL,
    ordinal         INTEGER NOT NULL,
    name            VARCHAR NOT NULL,
    max_points      DOUBLE NOT NULL,
    direction       TINYINT NOT NULL,
    rule_kind       VARCHAR,
    rule_params     VARCHAR,
    flags           VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    unit            VARCHAR,
    is_leaf         BOOLEAN NOT NULL,
    PRIMARY KEY (framework_hash, node_id)
);

-- Which framework version applies to which year and level (the framework changes between years).
CREATE TABLE IF NOT EXISTS year_frameworks (
    year            INTEGER NOT NULL,
    level           VARCHAR NOT NULL,
    framework_hash  VARCHAR NOT NULL,
    PRIMARY KEY (year, level)
);
