-- title: Messages per day
-- description: Messages per day (of the message's first event, in the config's time zone, UTC by default), channel, region and final status class.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
SELECT date, channel, region, status_class, CAST(sum(messages) AS BIGINT) AS messages
FROM message_counts
WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY ALL
ORDER BY date, channel, region, status_class
