-- title: Failure rate by channel
-- description: Messages, delivered (or read), failures and failure rate (failures / messages) per channel.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
SELECT
    channel,
    CAST(sum(messages) AS BIGINT) AS messages,
    CAST(coalesce(sum(messages) FILTER (WHERE status_class IN {{ reached_classes }}), 0) AS BIGINT) AS delivered,
    CAST(coalesce(sum(messages) FILTER (WHERE is_failure), 0) AS BIGINT) AS failures,
    round(coalesce(sum(messages) FILTER (WHERE is_failure), 0) / sum(messages), 4) AS failure_rate
FROM message_counts
WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY channel
ORDER BY messages DESC, channel
