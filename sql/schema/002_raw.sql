-- Raw layer: every received file, every cell read from it, and every refused cell with its reason.
CREATE TABLE IF NOT EXISTS submissions (
    submission_id      VARCHAR PRIMARY KEY,   -- sha256 of the file's bytes
    received_seq       BIGINT NOT NULL,       -- arrival order: a later submission replaces earlier
    kind               VARCHAR NOT NULL,      -- self | appraisal
    file_name          VARCHAR NOT NULL,
    archived_path      VARCHAR NOT NULL,      -- archive/<sha[:2]>/<sha>.<ext>, kept forever
    year               INTEGER,
    level              VARCHAR,
    unit_id            VARCHAR,               -- null for an appraisal covering many units
    framework_id       VARCHAR,
    framework_version  VARCHAR,
    n_accepted         INTEGER NOT NULL,
    n_rejected         INTEGER NOT NULL,
    status             VARCHAR NOT NULL       -- accepted | partially_accepted | refused
);

CREATE TABLE IF NOT EXISTS raw_values (
    submission_id  VARCHAR NOT NULL,
    file_name      VARCHAR NOT NULL,
    sheet          VARCHAR NOT NULL,
    row_number     INTEGER NOT NULL,          -- 1-based, as Excel shows it
    column_name    VARCHAR NOT NULL,          -- Excel column letter
    year           INTEGER NOT NULL,
    level          VARCHAR NOT NULL,
    unit_id        VARCHAR NOT NULL,
    indicator_id   VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,          -- self | appraised
    raw_text       VARCHAR,
    value          DOUBLE,                    -- null: left blank (missing), not zero
    reason         VARCHAR,                   -- appraisal: why the value was changed
    PRIMARY KEY (submission_id, sheet, row_number, kind)
);

CREATE TABLE IF NOT EXISTS rejected_rows (
    submission_id  VARCHAR NOT NULL,
    file_name      VARCHAR NOT NULL,
    sheet          VARCHAR NOT NULL,
    row_number     INTEGER NOT NULL,
    column_name    VARCHAR NOT NULL,
    year           INTEGER,
    unit_id        VARCHAR,
    indicator_id   VARCHAR,
    raw_text       VARCHAR,
    rule           VARCHAR NOT NULL,          -- stable id of the rule broken
    message        VARCHAR NOT NULL,          -- located message, Vietnamese
    PRIMARY KEY (submission_id, sheet, row_number, column_name)
);
