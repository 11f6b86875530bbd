-- Time to delivery (delivery_seconds.sql, one row per message) summarised per day, channel and
-- region and each coarser level: one pass, holistic quantiles (exact, interpolated) over the
-- delivered messages. The same text runs in Spark SQL (reporter/spark): grouping_id and explicit
-- NULLS LAST are what both dialects read alike, and the quantiles are a snippet rendered per engine
-- (vocabulary.p50_p95_sql: DuckDB's one list state fits a 3 GB limit at 100M events, two did not).
SELECT
    CASE grouping_id(date, channel, region)
        WHEN 0 THEN 'date_channel_region' WHEN 1 THEN 'date_channel' WHEN 3 THEN 'date'
        WHEN 4 THEN 'channel_region' WHEN 5 THEN 'channel' ELSE 'all'
    END AS level,
    date,
    channel,
    region,
    count(*) AS messages,
    count(seconds) AS delivered,
    {{ p50_p95(seconds) }},
    count(*) FILTER (WHERE without_receipt) AS without_receipt
FROM delivery_seconds
GROUP BY GROUPING SETS ((date, channel, region), (date, channel), (date), (channel, region), (channel), ())
ORDER BY grouping_id(date, channel, region), date NULLS LAST, channel NULLS LAST, region NULLS LAST
