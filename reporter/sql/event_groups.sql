-- Events grouped on their own columns (date and hour in the session's time zone): the heavy part
-- of event_counts. DuckDB and Spark SQL both run this same text (reporter/spark/ reads it too).
SELECT
    CAST(event_time AS DATE) AS date,
    CAST(date_part('hour', event_time) AS INTEGER) AS hour,
    channel,
    region,
    status_code,
    count(*) AS events,
    max(event_time) AS last_event_at  -- the input's latest event (the bucketed run's as-of time)
FROM events
GROUP BY ALL
