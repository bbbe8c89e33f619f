-- Staging layer: validation outcomes and the validated observations scoring reads.
CREATE TABLE IF NOT EXISTS validation_results (
    year                 INTEGER NOT NULL,
    level                VARCHAR NOT NULL,
    suite                VARCHAR NOT NULL,
    expectation          VARCHAR NOT NULL,
    success              BOOLEAN NOT NULL,
    blocking             BOOLEAN NOT NULL,
    description          VARCHAR NOT NULL,
    unexpected_count     INTEGER NOT NULL,
    unexpected_examples  VARCHAR NOT NULL,    -- JSON list
    PRIMARY KEY (year, level, suite, expectation)
);

CREATE TABLE IF NOT EXISTS observations (
    year                     INTEGER NOT NULL,
    level                    VARCHAR NOT NULL,
    unit_id                  VARCHAR NOT NULL,
    indicator_id             VARCHAR NOT NULL,
    self_value               DOUBLE,
    appraised_value          DOUBLE,
    value                    DOUBLE,          -- appraised where present, else self-assessed
    appraisal_reason         VARCHAR,
    self_submission_id       VARCHAR,
    appraisal_submission_id  VARCHAR,
    framework_id             VARCHAR NOT NULL,
    framework_version        VARCHAR NOT NULL,
    PRIMARY KEY (year, level, unit_id, indicator_id)
);

CREATE TABLE IF NOT EXISTS validation_overrides (
    year        INTEGER NOT NULL,
    level       VARCHAR NOT NULL,
    granted_by  VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    granted_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (year, level)
);
