-- title: Failure codes against their baseline
-- description: Per channel, region and final failure code on the compared day: failures, the channel and region's messages, and the same code's failures in the up to 7 days before that have data (baseline_days), against those days' messages.
-- param date: the compared day (YYYY-MM-DD); the latest day when omitted
WITH target AS (
    SELECT coalesce(CAST($date AS DATE), (SELECT max(date) FROM message_counts)) AS day
),
cells AS (
    SELECT
        date,
        channel,
        region,
        sum(messages) AS messages
    FROM message_counts, target
    WHERE date BETWEEN target.day - 7 AND target.day
    GROUP BY ALL
),
codes AS (
    SELECT
        date,
        channel,
        region,
        status_code,
        any_value(code_message) AS code_message,
        any_value(failure_category) AS failure_category,
        any_value(code_source) AS code_source,
        sum(messages) AS failures
    FROM message_counts, target
    WHERE is_failure AND date BETWEEN target.day - 7 AND target.day
    GROUP BY ALL
),
base_cells AS (
    SELECT channel, region, count(*) AS days, sum(messages) AS messages
    FROM cells, target
    WHERE date < target.day
    GROUP BY ALL
),
base_codes AS (
    SELECT channel, region, status_code, sum(failures) AS failures
    FROM codes, target
    WHERE date < target.day
    GROUP BY ALL
)
SELECT
    c.channel,
    c.region,
    c.status_code,
    c.code_message,
    d.description,
    c.failure_category,
    CAST(c.failures AS BIGINT) AS failures,
    CAST(t.messages AS BIGINT) AS messages,
    CAST(coalesce(b.days, 0) AS BIGINT) AS baseline_days,
    CAST(coalesce(b.messages, 0) AS BIGINT) AS baseline_messages,
    CAST(coalesce(bc.failures, 0) AS BIGINT) AS baseline_failures
FROM codes AS c
JOIN target ON c.date = target.day
JOIN cells AS t ON t.date = c.date AND t.channel = c.channel AND t.region = c.region
LEFT JOIN base_cells AS b ON b.channel = c.channel AND b.region = c.region
LEFT JOIN base_codes AS bc ON bc.channel = c.channel AND bc.region = c.region AND bc.status_code = c.status_code
LEFT JOIN status_codes AS d
    ON d.channel = CASE WHEN c.code_source = 'common' THEN 'common' ELSE c.channel END AND d.code = c.status_code
ORDER BY c.failures DESC, c.channel, c.region, c.status_code
