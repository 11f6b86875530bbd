-- title: Messages per hour
-- description: Messages per hour of their first event (config time zone, UTC by default), channel and final status class.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
SELECT
    hour,
    channel,
    status_class,
    CAST(sum(messages) AS BIGINT) AS messages
FROM message_counts
WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY ALL
ORDER BY hour, channel, status_class
