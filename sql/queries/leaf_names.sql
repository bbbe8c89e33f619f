-- The leaves of a stored framework version ($framework_id, $version) with their names, in the
-- framework's order (receipts and reports name indicators as the decision does).
SELECT n.node_id, any_value(n.name) AS name, min(n.ordinal) AS ordinal
FROM framework_nodes AS n
JOIN framework_versions AS v USING (framework_hash)
WHERE v.framework_id = $framework_id AND v.version = $version AND n.is_leaf
GROUP BY n.node_id
ORDER BY min(n.ordinal)
