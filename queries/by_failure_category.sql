-- title: Failures by category
-- description: Failed and undelivered messages per failure category, with their share of all failures.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
SELECT
    coalesce(failure_category, 'unknown') AS failure_category,
    CAST(sum(messages) AS BIGINT) AS failures,
    bool_or(retryable) AS any_retryable,
    round(sum(messages) / sum(sum(messages)) OVER (), 4) AS share_of_failures
FROM message_counts
WHERE is_failure
    AND date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY ALL
ORDER BY failures DESC, failure_category
