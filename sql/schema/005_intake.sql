-- Intake (issue #4): re-evaluation history, arrival time, CSV, evidence and self points, points
-- set by the appraiser, indicators missing from a file, and update periods.

-- A received file may be evaluated more than once (`dti reingest`, after the registry or the
-- framework changed): each evaluation is a row. The first keeps submission_id = sha256 of the
-- bytes; the n-th is '<sha256>.<n>'. The latest evaluation of a file is the one that counts;
-- earlier ones stay as history. received_seq and received_at are the file's, shared by all its
-- evaluations, so a re-evaluated old file never overtakes a later one.
ALTER TABLE submissions ADD COLUMN file_sha256 VARCHAR;
ALTER TABLE submissions ADD COLUMN evaluation INTEGER DEFAULT 1;
ALTER TABLE submissions ADD COLUMN replaces_submission_id VARCHAR;
ALTER TABLE submissions ADD COLUMN received_at TIMESTAMP;    -- file mtime when picked up (UTC)
ALTER TABLE submissions ADD COLUMN evaluated_at TIMESTAMP;   -- when this evaluation was made (UTC)
ALTER TABLE submissions ADD COLUMN source_format VARCHAR;    -- xlsx | csv
ALTER TABLE submissions ADD COLUMN inbox_year INTEGER;       -- the inbox folder's year, if any
UPDATE submissions SET file_sha256 = submission_id WHERE file_sha256 IS NULL;
UPDATE submissions SET evaluation = 1 WHERE evaluation IS NULL;

-- What the unit wrote beside each value.
ALTER TABLE raw_values ADD COLUMN evidence VARCHAR;           -- Tài liệu kiểm chứng
ALTER TABLE raw_values ADD COLUMN self_points DOUBLE;         -- Điểm tự đánh giá (informational)

-- Points set directly by the appraiser (a `direct`-style override of the rubric), with the reason.
CREATE TABLE IF NOT EXISTS appraised_points (
    submission_id  VARCHAR NOT NULL,
    file_name      VARCHAR NOT NULL,
    sheet          VARCHAR NOT NULL,
    row_number     INTEGER NOT NULL,
    column_name    VARCHAR NOT NULL,
    year           INTEGER NOT NULL,
    level          VARCHAR NOT NULL,
    unit_id        VARCHAR NOT NULL,
    indicator_id   VARCHAR NOT NULL,
    raw_text       VARCHAR,
    points         DOUBLE NOT NULL,           -- 0 ≤ points ≤ the indicator's maximum
    reason         VARCHAR NOT NULL,
    PRIMARY KEY (submission_id, sheet, row_number)
);

-- Indicators a file has no row for (deleted rows, a CSV without them): reported in the receipt;
-- they score as missing data.
CREATE TABLE IF NOT EXISTS missing_indicators (
    submission_id  VARCHAR NOT NULL,
    unit_id        VARCHAR NOT NULL,
    indicator_id   VARCHAR NOT NULL,
    PRIMARY KEY (submission_id, unit_id, indicator_id)
);

-- Observations carry the self-assessed points and the appraiser's points override.
ALTER TABLE observations ADD COLUMN self_points DOUBLE;
ALTER TABLE observations ADD COLUMN appraised_points DOUBLE;
ALTER TABLE observations ADD COLUMN points_reason VARCHAR;
ALTER TABLE observations ADD COLUMN points_submission_id VARCHAR;

-- Update periods: each time a year's scores are recomputed from changed inputs, every unit's
-- total points and rank per method are recorded, so a unit can follow how its result moved
-- between updates within the year (Đắk Lắk 2534: "điểm … thay đổi khi dữ liệu được cập nhật").
CREATE TABLE IF NOT EXISTS update_periods (
    year              INTEGER NOT NULL,
    period            INTEGER NOT NULL,       -- 1, 2, … within the year
    recorded_at       TIMESTAMP NOT NULL,     -- UTC
    input_hash        VARCHAR NOT NULL,       -- observations + scored units + framework versions
    max_received_seq  BIGINT,                 -- the last submission taken into account
    n_submissions     INTEGER NOT NULL,       -- files of the year received since the previous period
    new_files         VARCHAR NOT NULL,       -- JSON list of those file names
    PRIMARY KEY (year, period)
);

CREATE TABLE IF NOT EXISTS update_period_scores (
    year         INTEGER NOT NULL,
    period       INTEGER NOT NULL,
    level        VARCHAR NOT NULL,
    method       VARCHAR NOT NULL,
    group_id     VARCHAR NOT NULL,
    unit_id      VARCHAR NOT NULL,
    points       DOUBLE NOT NULL,
    max_points   DOUBLE NOT NULL,
    ratio        DOUBLE,
    rank         INTEGER NOT NULL,
    class_label  VARCHAR,
    PRIMARY KEY (year, period, level, method, unit_id)
);
