-- Time to delivery per message (first event to first delivered/read event, `first_delivered_at`
-- from messages.sql), summarised per day, channel and region and each coarser level: one pass over
-- the messages, holistic quantiles (quantile_cont: exact, interpolated) over the delivered ones.
-- $as_of: the latest event time of the run's input; $timeout_minutes: the receipt timeout.
WITH per_message AS (
    SELECT
        date,
        channel,
        region,
        (epoch_us(first_delivered_at) - epoch_us(first_event_at)) / 1e6 AS seconds,
        status_class IN ('submitted', 'queued')
            AND first_event_at < CAST($as_of AS TIMESTAMPTZ) - to_minutes(CAST($timeout_minutes AS BIGINT))
            AS without_receipt
    FROM message_rows
)
SELECT
    CASE grouping(date, channel, region)
        WHEN 0 THEN 'date_channel_region' WHEN 1 THEN 'date_channel' WHEN 3 THEN 'date'
        WHEN 4 THEN 'channel_region' WHEN 5 THEN 'channel' ELSE 'all'
    END AS level,
    date,
    channel,
    region,
    count(*) AS messages,
    count(seconds) AS delivered,
    quantile_cont(seconds, 0.5) AS p50_seconds,
    quantile_cont(seconds, 0.95) AS p95_seconds,
    count(*) FILTER (WHERE without_receipt) AS without_receipt
FROM per_message
GROUP BY GROUPING SETS ((date, channel, region), (date, channel), (date), (channel, region), (channel), ())
ORDER BY grouping(date, channel, region), date, channel, region
