-- The stored Great Expectations results of a year, one per level and suite (Data Docs).
SELECT level, suite, validated_at, gx_version, document
FROM gx_results
WHERE year = $year
ORDER BY level, suite
