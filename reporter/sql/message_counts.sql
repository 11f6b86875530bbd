-- Messages counted by every dimension a breakdown needs: small (a few hundred thousand rows for
-- 10M messages), so the report and the named queries never read the messages themselves.
-- The classification columns depend on (channel, status_code) alone and add no rows.
SELECT
    date,
    date_trunc('hour', first_event_at) AS hour,
    channel,
    region,
    status_code,
    status_class,
    code_message,
    failure_category,
    retryable,
    code_source,
    is_failure,
    sender,
    destination_country,
    count(*) AS messages
FROM messages
GROUP BY ALL
ORDER BY ALL
