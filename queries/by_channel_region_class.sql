-- title: Messages by channel, region and status class
-- description: Messages by their final status class, and events by their own class, for every channel and region.
-- param start: first date included (YYYY-MM-DD, the message's first event, in the config's time zone); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
WITH m AS (
    SELECT channel, region, status_class, CAST(sum(messages) AS BIGINT) AS messages
    FROM message_counts
    WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
    GROUP BY ALL
),
e AS (
    SELECT channel, region, status_class, sum(events) AS events
    FROM event_counts
    WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
    GROUP BY ALL
)
SELECT
    channel,
    region,
    status_class,
    coalesce(m.messages, 0) AS messages,
    CAST(coalesce(e.events, 0) AS BIGINT) AS events
FROM m
FULL JOIN e USING (channel, region, status_class)
ORDER BY channel, region, status_class
