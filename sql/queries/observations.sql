-- Observations of one year and level: the latest self-assessment of each unit (a resubmission
-- replaces the earlier one, which stays in raw_values), overlaid with the latest appraised value
-- of each (unit, indicator) across the year's appraisal files.
-- Parameters: $year, $level
WITH self_latest AS (
    SELECT submission_id, unit_id
    FROM submissions
    WHERE kind = 'self' AND year = $year AND level = $level AND status <> 'refused'
    QUALIFY row_number() OVER (PARTITION BY unit_id ORDER BY received_seq DESC) = 1
),
self_values AS (
    SELECT r.unit_id, r.indicator_id, r.value, r.submission_id
    FROM raw_values AS r
    JOIN self_latest AS s USING (submission_id)
    WHERE r.kind = 'self'
),
appraised AS (
    SELECT r.unit_id, r.indicator_id, r.value, r.reason, r.submission_id
    FROM raw_values AS r
    JOIN submissions AS s USING (submission_id)
    WHERE r.kind = 'appraised' AND s.year = $year AND s.level = $level AND s.status <> 'refused'
    QUALIFY row_number() OVER (
        PARTITION BY r.unit_id, r.indicator_id ORDER BY s.received_seq DESC
    ) = 1
)
SELECT CAST($year AS INTEGER)                  AS year,
       CAST($level AS VARCHAR)                 AS level,
       coalesce(s.unit_id, a.unit_id)          AS unit_id,
       coalesce(s.indicator_id, a.indicator_id) AS indicator_id,
       s.value                                 AS self_value,
       a.value                                 AS appraised_value,
       CASE WHEN a.submission_id IS NOT NULL THEN a.value ELSE s.value END AS value,
       a.reason                                AS appraisal_reason,
       s.submission_id                         AS self_submission_id,
       a.submission_id                         AS appraisal_submission_id
FROM self_values AS s
FULL OUTER JOIN appraised AS a USING (unit_id, indicator_id)
ORDER BY unit_id, indicator_id;
