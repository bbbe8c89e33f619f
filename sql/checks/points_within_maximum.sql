-- Points lie in [0, maximum] at every node; ratios in [0, 1]. Parameter: $year
SELECT year, level, method, unit_id, node_id, points, max_points, ratio
FROM node_scores
WHERE year = $year
  AND (points < -1e-9 OR points > max_points + 1e-6 OR ratio < -1e-9 OR ratio > 1 + 1e-9)
ORDER BY ALL
LIMIT 50;
