-- Per level and comparison group: how many units were scored, the best and the worst total.
-- Parameters: $year, $method
WITH totals AS (
    SELECT * FROM unit_totals WHERE year = $year AND method = $method
)
SELECT level,
       CAST(count(*) AS INTEGER)                       AS n_units,
       arg_max(unit_name, points)                      AS top_unit,
       max(points)                                     AS top_points,
       arg_min(unit_name, points)                      AS bottom_unit,
       min(points)                                     AS bottom_points,
       any_value(max_points)                           AS max_points,
       CAST(count(*) FILTER (WHERE n_missing > 0) AS INTEGER) AS n_units_with_missing
FROM totals
GROUP BY level
ORDER BY CASE level WHEN 'department' THEN 1 WHEN 'district' THEN 2 WHEN 'commune' THEN 3 ELSE 4 END;
