-- The hand-written reference for `make bench`: what a careful analyst would write in DuckDB to get
-- the same answer from the same file, with none of reporter's checks (no quarantine, no
-- reconciliation, no duplicate removal, no masking). Run by bench/reference.py, which first creates
-- the view `events` over the input (the per-format read), with $codes (the dimension as Parquet)
-- and $out (a folder).
SET TimeZone = 'UTC';
CREATE TABLE codes AS SELECT channel, code, status_class FROM read_parquet(getvariable('codes'));
CREATE TABLE messages AS
WITH classified AS (
    SELECT
        e.*,
        coalesce(ch.status_class, cm.status_class,
                 CASE e.status_code WHEN 7500 THEN 'delivered' WHEN 7501 THEN 'submitted'
                                    WHEN 7502 THEN 'read' WHEN 1001 THEN 'queued' END,
                 'unknown') AS status_class
    FROM events AS e
    LEFT JOIN codes AS ch ON ch.channel = e.channel AND ch.code = e.status_code
    LEFT JOIN codes AS cm ON cm.channel = 'common' AND cm.code = e.status_code
)
SELECT
    CAST(min(event_time) AS DATE) AS date,
    message_id,
    arg_max(
        struct_pack(channel, region, status_code, status_class, destination),
        struct_pack(
            status_rank := CASE status_class WHEN 'read' THEN 5 WHEN 'delivered' THEN 4 WHEN 'failed' THEN 3
                WHEN 'undelivered' THEN 3 WHEN 'submitted' THEN 2 WHEN 'queued' THEN 1 ELSE 0 END,
            event_time, status_code)
    ) AS final,
    count(*) AS events
FROM classified
GROUP BY message_id;
COPY (SELECT date, message_id, final.*, events FROM messages ORDER BY date, message_id)
    TO (getvariable('out') || '/messages') (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date));
COPY (SELECT final.channel, final.region, final.status_class, count(*) AS messages FROM messages GROUP BY ALL)
    TO (getvariable('out') || '/by_channel_region_class.parquet') (FORMAT parquet);
