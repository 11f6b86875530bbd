-- title: Top failure codes overall
-- description: The final failure codes with the most messages across all channels, with the document's message and category and their share of all failures.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
-- param limit: codes listed (default 10)
WITH failures AS (
    SELECT channel, status_code, code_message, failure_category, messages
    FROM message_counts
    WHERE is_failure
        AND date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
)
SELECT
    channel,
    status_code,
    any_value(code_message) AS code_message,
    any_value(failure_category) AS failure_category,
    CAST(sum(messages) AS BIGINT) AS failures,
    round(sum(messages) / (SELECT sum(messages) FROM failures), 4) AS share_of_failures
FROM failures
GROUP BY channel, status_code
ORDER BY failures DESC, channel, status_code
LIMIT coalesce(CAST($limit AS INTEGER), 10)
