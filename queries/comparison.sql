-- title: Failure rate against the previous day and the trailing 7 days
-- description: Per channel and region on the compared day: messages, failures and failure rate, beside the previous day and the up to 7 days before it that have data (pooled; baseline_days says how many), with the change in percentage points.
-- param date: the day compared (YYYY-MM-DD); the latest day when omitted
WITH per_day AS (
    SELECT
        date,
        channel,
        region,
        sum(messages) AS messages,
        coalesce(sum(messages) FILTER (WHERE status_class IN {{ failure_classes }}), 0) AS failures
    FROM daily_history
    GROUP BY ALL
),
target AS (
    SELECT coalesce(CAST($date AS DATE), (SELECT max(date) FROM per_day)) AS day
),
baseline AS (
    SELECT channel, region, count(DISTINCT date) AS days, sum(messages) AS messages, sum(failures) AS failures
    FROM per_day, target
    WHERE date BETWEEN target.day - 7 AND target.day - 1
    GROUP BY ALL
)
SELECT
    p.channel,
    p.region,
    CAST(p.messages AS BIGINT) AS messages,
    CAST(p.failures AS BIGINT) AS failures,
    round(p.failures / p.messages, 4) AS failure_rate,
    round(prev.failures / prev.messages, 4) AS previous_day_rate,
    CAST(coalesce(b.days, 0) AS BIGINT) AS baseline_days,
    CAST(b.messages AS BIGINT) AS baseline_messages,
    CAST(b.failures AS BIGINT) AS baseline_failures,
    round(b.failures / b.messages, 4) AS baseline_rate,
    round(100 * (p.failures / p.messages - b.failures / b.messages), 2) AS change_points
FROM per_day AS p
JOIN target ON p.date = target.day
LEFT JOIN per_day AS prev ON prev.channel = p.channel AND prev.region = p.region AND prev.date = target.day - 1
LEFT JOIN baseline AS b ON b.channel = p.channel AND b.region = p.region
ORDER BY p.messages DESC, p.channel, p.region
