-- Observations of one year and level (docs/intake.md, "Which values count"):
-- * only the latest evaluation of each received file counts (`dti reingest` adds evaluations;
--   the earlier ones stay as history), and only evaluations not refused as a whole;
-- * per unit, the self-assessment of the file received last (highest received_seq) among the
--   files that carry accepted rows for that unit — a resubmission replaces the earlier file as a
--   whole (a row left blank is missing), the earlier file stays in raw_values; a file with
--   nothing accepted for the unit does not replace anything;
-- * overlaid with the latest appraised value, and separately the latest points set directly by
--   the appraiser, of each (unit, indicator) across the year's appraisal files.
-- Parameters: $year, $level
WITH counted AS (
    SELECT submission_id, received_seq FROM current_submissions WHERE status <> 'refused'
),
self_files AS (
    SELECT DISTINCT r.unit_id, r.submission_id, c.received_seq
    FROM raw_values AS r
    JOIN counted AS c USING (submission_id)
    WHERE r.kind = 'self' AND r.year = $year AND r.level = $level
),
self_latest AS (
    SELECT unit_id, submission_id
    FROM self_files
    QUALIFY row_number() OVER (PARTITION BY unit_id ORDER BY received_seq DESC) = 1
),
self_values AS (
    SELECT r.unit_id, r.indicator_id, r.value, r.self_points, r.submission_id
    FROM raw_values AS r
    JOIN self_latest AS s USING (unit_id, submission_id)
    WHERE r.kind = 'self'
),
appraised AS (
    SELECT r.unit_id, r.indicator_id, r.value, r.reason, r.submission_id
    FROM raw_values AS r
    JOIN counted AS c USING (submission_id)
    WHERE r.kind = 'appraised' AND r.year = $year AND r.level = $level
    QUALIFY row_number() OVER (
        PARTITION BY r.unit_id, r.indicator_id ORDER BY c.received_seq DESC, r.row_number DESC
    ) = 1
),
points AS (
    SELECT p.unit_id, p.indicator_id, p.points, p.reason, p.submission_id
    FROM appraised_points AS p
    JOIN counted AS c USING (submission_id)
    WHERE p.year = $year AND p.level = $level
    QUALIFY row_number() OVER (
        PARTITION BY p.unit_id, p.indicator_id ORDER BY c.received_seq DESC, p.row_number DESC
    ) = 1
),
keys AS (
    SELECT unit_id, indicator_id FROM self_values
    UNION
    SELECT unit_id, indicator_id FROM appraised
    UNION
    SELECT unit_id, indicator_id FROM points
)
SELECT CAST($year AS INTEGER)                  AS year,
       CAST($level AS VARCHAR)                 AS level,
       k.unit_id,
       k.indicator_id,
       s.value                                 AS self_value,
       a.value                                 AS appraised_value,
       CASE WHEN a.submission_id IS NOT NULL THEN a.value ELSE s.value END AS value,
       a.reason                                AS appraisal_reason,
       s.submission_id                         AS self_submission_id,
       a.submission_id                         AS appraisal_submission_id,
       s.self_points                           AS self_points,
       p.points                                AS appraised_points,
       p.reason                                AS points_reason,
       p.submission_id                         AS points_submission_id
FROM keys AS k
LEFT JOIN self_values AS s USING (unit_id, indicator_id)
LEFT JOIN appraised AS a USING (unit_id, indicator_id)
LEFT JOIN points AS p USING (unit_id, indicator_id)
ORDER BY k.unit_id, k.indicator_id;
