-- Time to delivery (delivery_seconds.sql, one row per message) summarised per day, channel and
-- region and each coarser level: one pass, holistic quantiles (percentile_cont: exact, interpolated)
-- over the delivered messages. The same text runs in Spark SQL (reporter/spark): grouping_id, the
-- ordered-set percentile_cont and explicit NULLS LAST are what both dialects read alike; the
-- quantiles are rounded to the microsecond (the inputs' resolution), since the two engines
-- interpolate with different float arithmetic (lo + d*(hi-lo), (1-d)*lo + d*hi): last bits differ.
-- (DuckDB's quantile_cont(seconds, [0.5, 0.95]), one sort for both, was 0.6 s faster at 10M; Spark
-- SQL reads neither the list nor SELECT * EXCLUDE.)
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
    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds), 6) AS p50_seconds,
    round(percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds), 6) AS p95_seconds,
    count(*) FILTER (WHERE without_receipt) AS without_receipt
FROM delivery_seconds
GROUP BY GROUPING SETS ((date, channel, region), (date, channel), (date), (channel, region), (channel), ())
ORDER BY grouping_id(date, channel, region), date NULLS LAST, channel NULLS LAST, region NULLS LAST
