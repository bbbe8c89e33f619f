-- Total points, ratio, rank and class of every unit in a year by one method.
-- Parameters: $year, $method
SELECT *
FROM unit_totals
WHERE year = $year AND method = $method
ORDER BY level, group_id, rank, unit_id;
