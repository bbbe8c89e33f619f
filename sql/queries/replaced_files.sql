-- For each given self-assessment ($ids) that counts for a unit, the unit's file it replaces —
-- the latest earlier, not refused, current file with the unit's self-assessed values of the same
-- year and level — when that file was sent under another name. A file whose hidden
-- identification names another unit replaces that unit's file this way: receipts and the run
-- summary flag it. Rows: submission_id, unit_id, file_name (new), replaced_file_name.
WITH mine AS (
    SELECT DISTINCT v.submission_id AS sid, s.received_seq AS seq, s.file_name,
           v.unit_id, v.year, v.level
    FROM raw_values AS v JOIN current_submissions AS s USING (submission_id)
    WHERE v.submission_id IN (SELECT unnest($ids::VARCHAR[])) AND v.kind = 'self'
      AND s.status <> 'refused'
),
earlier AS (
    SELECT DISTINCT m.sid, m.unit_id, m.file_name, c.file_name AS replaced_file_name,
           c.received_seq
    FROM raw_values AS r
    JOIN mine AS m USING (unit_id, year, level)
    JOIN current_submissions AS c ON c.submission_id = r.submission_id
    WHERE r.kind = 'self' AND c.status <> 'refused' AND c.received_seq < m.seq
    QUALIFY row_number() OVER (PARTITION BY m.sid, m.unit_id ORDER BY c.received_seq DESC) = 1
)
SELECT sid AS submission_id, unit_id, file_name, replaced_file_name
FROM earlier
WHERE file_name <> replaced_file_name
ORDER BY file_name, unit_id
