-- title: Failures per day and code
-- description: Messages whose final status is a failure (failed or undelivered), per day (of the message's first event, config time zone), channel, region and final code, with its class and failure category: the per-code history the report ranks problems against.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
SELECT
    date,
    channel,
    region,
    status_code,
    status_class,
    failure_category,
    CAST(sum(messages) AS BIGINT) AS messages
FROM message_counts
WHERE is_failure
    AND date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY ALL
ORDER BY date, channel, region, messages DESC, status_code
