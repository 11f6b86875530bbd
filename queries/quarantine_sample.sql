-- title: Quarantined rows, first few
-- description: The first quarantined rows by file and line, with the reason and the raw text (destinations masked, cut to 100 characters).
-- param limit: rows (default 10)
SELECT
    regexp_extract(file, '[^/]*$') AS file,
    line,
    reason,
    left(raw, 100) AS raw
FROM quarantine
ORDER BY file, line
LIMIT coalesce(CAST($limit AS INTEGER), 10)
