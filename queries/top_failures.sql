-- title: Top failure codes per channel
-- description: The most frequent final failure codes of each channel, with message, category, retryable and share of the channel's messages.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
-- param limit: codes per channel (default 5)
WITH per_channel AS (
    SELECT channel, CAST(sum(messages) AS BIGINT) AS channel_messages
    FROM message_counts
    WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
    GROUP BY channel
),
codes AS (
    SELECT
        channel,
        status_code,
        any_value(code_message) AS code_message,
        any_value(failure_category) AS failure_category,
        any_value(retryable) AS retryable,
        CAST(sum(messages) AS BIGINT) AS messages
    FROM message_counts
    WHERE is_failure
        AND date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
    GROUP BY channel, status_code
)
SELECT
    c.channel,
    c.status_code,
    c.code_message,
    c.failure_category,
    c.retryable,
    c.messages,
    round(c.messages / p.channel_messages, 4) AS share_of_channel
FROM codes AS c
JOIN per_channel AS p USING (channel)
QUALIFY row_number() OVER (PARTITION BY c.channel ORDER BY c.messages DESC, c.status_code) <= coalesce(CAST($limit AS INTEGER), 5)
ORDER BY c.channel, c.messages DESC, c.status_code
