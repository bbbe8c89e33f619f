-- Within each comparison group and node, rank = 1 + the number of units with strictly more
-- points (ties share the lowest rank: 1, 2, 2, 4). Parameter: $year
WITH expected AS (
    SELECT year, level, method, group_id, unit_id, node_id, rank,
           rank() OVER (PARTITION BY year, level, method, group_id, node_id
                        ORDER BY round(points, 6) DESC) AS expected_rank
    FROM scores
    WHERE year = $year
)
SELECT *
FROM expected
WHERE rank <> expected_rank
ORDER BY ALL
LIMIT 50;
