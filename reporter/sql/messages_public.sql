-- The messages as they may leave the process, in the extract's column order: the destination
-- masked and its keyed hash beside it (both computed once per distinct destination into
-- destination_public), plus first_src, the key every writer orders by.
SELECT
    m.* EXCLUDE (first_delivered_at, destination, first_src),
    p.destination_hash,
    p.destination_masked AS destination,
    m.first_src
FROM message_rows AS m
LEFT JOIN destination_public AS p ON p.destination = m.destination
