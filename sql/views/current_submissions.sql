-- The current evaluation of every received file: a file re-evaluated (dti reingest) counts by its
-- latest evaluation; a file without a hash (none could be taken) stands for itself.
CREATE OR REPLACE VIEW current_submissions AS
SELECT *
FROM submissions
QUALIFY row_number() OVER (
    PARTITION BY coalesce(file_sha256, submission_id) ORDER BY coalesce(evaluation, 1) DESC
) = 1;
