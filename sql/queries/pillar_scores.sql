-- Every unit's pillar points and ratios in a year by one method. Parameters: $year, $method
SELECT s.level, s.group_id, s.unit_id, u.name AS unit_name, s.node_id, n.name AS pillar,
       s.points, s.max_points, s.ratio, s.rank
FROM scores AS s
JOIN year_frameworks AS y USING (year, level)
JOIN framework_nodes AS n ON n.framework_hash = y.framework_hash AND n.node_id = s.node_id
LEFT JOIN units AS u ON u.unit_id = s.unit_id
WHERE s.year = $year AND s.method = $method AND s.node_level = 'pillar'
ORDER BY s.level, s.unit_id, n.ordinal;
