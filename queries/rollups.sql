-- title: Day, week-to-date and month-to-date
-- description: Messages, failures and failure rate per channel for the compared day, the ISO week up to it and the month up to it.
-- param date: the day compared (YYYY-MM-DD); the latest day when omitted
WITH target AS (
    SELECT coalesce(CAST($date AS DATE), (SELECT max(date) FROM daily_history)) AS day
),
tagged AS (
    SELECT
        d.channel,
        d.messages,
        d.status_class IN {{ failure_classes }} AS failed,
        d.date = t.day AS in_day,
        d.date BETWEEN date_trunc('week', t.day) AND t.day AS in_week,
        d.date BETWEEN date_trunc('month', t.day) AND t.day AS in_month
    FROM daily_history AS d, target AS t
)
SELECT
    channel,
    CAST(coalesce(sum(messages) FILTER (WHERE in_day), 0) AS BIGINT) AS day_messages,
    round(coalesce(sum(messages) FILTER (WHERE in_day AND failed), 0)
        / sum(messages) FILTER (WHERE in_day), 4) AS day_rate,
    CAST(coalesce(sum(messages) FILTER (WHERE in_week), 0) AS BIGINT) AS week_messages,
    round(coalesce(sum(messages) FILTER (WHERE in_week AND failed), 0)
        / sum(messages) FILTER (WHERE in_week), 4) AS week_rate,
    CAST(coalesce(sum(messages) FILTER (WHERE in_month), 0) AS BIGINT) AS month_messages,
    round(coalesce(sum(messages) FILTER (WHERE in_month AND failed), 0)
        / sum(messages) FILTER (WHERE in_month), 4) AS month_rate
FROM tagged
WHERE in_month
GROUP BY channel
ORDER BY month_messages DESC, channel
