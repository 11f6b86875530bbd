-- title: Failure rate by channel
-- description: Messages, delivered (or read), failures and failure rate (failures / messages) per channel.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
SELECT
    channel,
    count(*) AS messages,
    count(*) FILTER (WHERE status_class IN ('delivered', 'read')) AS delivered,
    count(*) FILTER (WHERE is_failure) AS failures,
    round(count(*) FILTER (WHERE is_failure) / count(*), 4) AS failure_rate
FROM messages
WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY channel
ORDER BY messages DESC, channel
