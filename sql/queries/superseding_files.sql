-- Self-assessments received later that count instead of each given one ($ids): for each given
-- submission, the current (latest evaluation), not refused files of the same unit, year and
-- level received after it. Receipts name them ("this file has been replaced by …").
WITH mine AS (
    SELECT DISTINCT v.submission_id AS sid, s.received_seq AS seq,
           v.unit_id, v.year, v.level
    FROM raw_values AS v JOIN submissions AS s USING (submission_id)
    WHERE v.submission_id IN (SELECT unnest($ids::VARCHAR[])) AND v.kind = 'self'
)
SELECT DISTINCT m.sid, c.file_name, c.received_seq
FROM raw_values AS r
JOIN mine AS m USING (unit_id, year, level)
JOIN current_submissions AS c ON c.submission_id = r.submission_id
WHERE r.kind = 'self' AND c.status <> 'refused' AND c.received_seq > m.seq
ORDER BY m.sid, c.received_seq
