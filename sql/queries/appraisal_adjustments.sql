-- The values the appraisal changed for a year and level ($year, $level), with the reason given.
SELECT unit_id, indicator_id, self_value, appraised_value, appraisal_reason AS reason
FROM observations
WHERE year = $year AND level = $level
  AND appraisal_submission_id IS NOT NULL
  AND appraised_value IS DISTINCT FROM self_value
ORDER BY unit_id, indicator_id
