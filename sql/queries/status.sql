-- What the warehouse holds per year and level: submissions, observations, validation, snapshots.
-- A submission counts under the inbox year it was found in (a file sent for the wrong year is
-- refused there, where the officer of that year looks).
SELECT o.year, o.level,
       (SELECT count(*) FROM submissions s
         WHERE coalesce(s.inbox_year, s.year) = o.year AND s.level = o.level) AS submissions,
       (SELECT count(*) FROM rejected_rows r JOIN submissions s USING (submission_id)
         WHERE coalesce(s.inbox_year, s.year) = o.year AND s.level = o.level) AS rejected,
       count(*)                                                            AS observations,
       count(o.value)                                                      AS with_value,
       (SELECT bool_and(v.success OR NOT v.blocking) FROM validation_results v
         WHERE v.year = o.year AND v.level = o.level)                       AS validation_passed,
       (SELECT count(*) FROM snapshots p
         WHERE p.year = o.year AND p.level = o.level)                       AS snapshots,
       (SELECT count(*) FROM snapshots p
         WHERE p.year = o.year AND p.level = o.level AND p.published_at IS NOT NULL) AS published
FROM observations AS o
GROUP BY o.year, o.level
ORDER BY o.year, CASE o.level WHEN 'department' THEN 1 WHEN 'district' THEN 2 ELSE 3 END;
