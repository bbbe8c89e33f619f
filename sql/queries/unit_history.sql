-- How one unit's total moved between the update periods of a year, per method.
-- rank_change > 0: moved up that many places since the previous period; points_change likewise.
-- Parameters: $year, $unit_id, $method (NULL: every method)
WITH mine AS (
    SELECT s.year, s.period, p.recorded_at, s.level, s.method, s.group_id,
           s.points, s.max_points, s.ratio, s.rank, s.class_label,
           (SELECT count(*) FROM update_period_scores AS g
             WHERE g.year = s.year AND g.period = s.period AND g.level = s.level
               AND g.method = s.method AND g.group_id = s.group_id)      AS group_size,
           p.n_submissions, p.new_files
    FROM update_period_scores AS s
    JOIN update_periods AS p USING (year, period)
    WHERE s.year = $year AND s.unit_id = $unit_id
      AND ($method IS NULL OR s.method = $method)
)
SELECT year, period, recorded_at, level, method, group_id, points, max_points, ratio,
       rank, group_size, class_label,
       points - lag(points) OVER w  AS points_change,
       lag(rank) OVER w - rank      AS rank_change,
       n_submissions, new_files
FROM mine
WINDOW w AS (PARTITION BY method ORDER BY period)
ORDER BY method, period;
