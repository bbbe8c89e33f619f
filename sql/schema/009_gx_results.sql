-- Great Expectations' own validation result of each suite run at ingest (issue #7): the report's
-- Data Docs are rendered from these documents instead of validating the year a second time, so
-- the pages show exactly the run that decided whether scoring could go on.
CREATE TABLE IF NOT EXISTS gx_results (
    year          INTEGER NOT NULL,
    level         VARCHAR NOT NULL,
    suite         VARCHAR NOT NULL,
    validated_at  TIMESTAMPTZ NOT NULL,
    gx_version    VARCHAR NOT NULL,
    document      VARCHAR NOT NULL,   -- ExpectationSuiteValidationResult.to_json_dict(), row lists trimmed
    PRIMARY KEY (year, level, suite)
);
