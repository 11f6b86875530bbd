-- title: Failure codes against their baseline
-- description: Per channel, region and final failure code on the compared day: failures, the channel and region's messages, and the same code's failures in the up to 7 days before that have data (baseline_days), against those days' messages; from the stored daily breakdowns (daily_history, daily_codes_history), never old logs.
-- param date: the compared day (YYYY-MM-DD); the latest day when omitted
WITH target AS (
    SELECT coalesce(CAST($date AS DATE), (SELECT max(date) FROM daily_history)) AS day
),
cells AS (
    SELECT date, channel, region, sum(messages) AS messages
    FROM daily_history, target
    WHERE date BETWEEN target.day - 7 AND target.day
    GROUP BY ALL
),
codes AS (
    SELECT
        date,
        channel,
        region,
        status_code,
        any_value(failure_category) AS failure_category,
        sum(messages) AS failures
    FROM daily_codes_history, target
    WHERE date BETWEEN target.day - 7 AND target.day
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
    coalesce(own.message, common.message) AS code_message,
    coalesce(own.description, common.description) AS description,
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
LEFT JOIN status_codes AS own ON own.channel = c.channel AND own.code = c.status_code
LEFT JOIN status_codes AS common ON common.channel = 'common' AND common.code = c.status_code
ORDER BY c.failures DESC, c.channel, c.region, c.status_code
