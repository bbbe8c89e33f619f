-- Every inner node's points equal the sum of its children's points (aggregation is exact).
-- Under the "exclude" missing-data rule a parent re-weights over its present children:
-- points = Σ present children's points ÷ Σ their maxima × its maximum (docs/scoring.md); with
-- no child excluded this is the plain sum. Returns the offending rows; none means the check
-- passes. Parameter: $year
WITH children AS (
    SELECT s.year, s.level, s.method, s.unit_id, n.parent_id AS node_id,
           sum(s.points) AS children_points,
           sum(s.points) FILTER (WHERE NOT coalesce(s.excluded, false)) AS present_points,
           sum(s.max_points) FILTER (WHERE NOT coalesce(s.excluded, false)) AS present_max,
           bool_or(coalesce(s.excluded, false)) AS some_excluded
    FROM node_scores AS s
    JOIN year_frameworks AS y USING (year, level)
    JOIN framework_nodes AS n ON n.framework_hash = y.framework_hash AND n.node_id = s.node_id
    WHERE s.year = $year AND n.parent_id IS NOT NULL
    GROUP BY ALL
)
SELECT p.year, p.level, p.method, p.unit_id, p.node_id, p.points, c.children_points
FROM node_scores AS p
JOIN children AS c USING (year, level, method, unit_id, node_id)
WHERE abs(p.points - CASE
        WHEN NOT c.some_excluded THEN c.children_points
        WHEN coalesce(p.excluded, false) OR coalesce(c.present_max, 0) = 0 THEN 0
        ELSE c.present_points / c.present_max * p.max_points
    END) > 1e-6
ORDER BY ALL
LIMIT 50;
