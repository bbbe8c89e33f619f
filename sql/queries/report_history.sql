-- Every unit's total, rank and group size in each year up to $up_to_year, from the latest
-- snapshots of $method (the report's trend pages and charts).
SELECT l.year, l.level, s.group_id, s.unit_id, s.points, s.max_points, s.ratio, s.rank,
       s.class_label,
       count(*) OVER (PARTITION BY l.year, l.level, s.group_id) AS group_size
FROM latest_snapshots AS l
JOIN snapshot_scores AS s USING (snapshot_id)
WHERE l.method = $method AND l.year <= $up_to_year AND s.node_level = 'index'
ORDER BY l.year, l.level, s.group_id, s.rank
