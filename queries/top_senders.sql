-- title: Senders with the most failures
-- description: Messages, failures and failure rate per channel and sender, the senders with the most failures first.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
-- param limit: rows (default 10)
SELECT
    channel,
    coalesce(sender, '(none)') AS sender,
    CAST(sum(messages) AS BIGINT) AS messages,
    CAST(coalesce(sum(messages) FILTER (WHERE is_failure), 0) AS BIGINT) AS failures,
    round(coalesce(sum(messages) FILTER (WHERE is_failure), 0) / sum(messages), 4) AS failure_rate
FROM message_counts
WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY ALL
ORDER BY failures DESC, messages DESC, channel, sender
LIMIT coalesce(CAST($limit AS INTEGER), 10)
