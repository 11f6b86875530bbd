-- title: Daily totals over the last 30 days
-- description: Per day over the 30 days up to the compared day (from the stored daily breakdowns, never old logs): messages, delivered (or read), failures, and messages without a final receipt (last status submitted or queued).
-- param date: the compared day (YYYY-MM-DD); the latest day when omitted
WITH target AS (
    SELECT coalesce(CAST($date AS DATE), (SELECT max(date) FROM daily_history)) AS day
)
SELECT
    date,
    CAST(sum(messages) AS BIGINT) AS messages,
    CAST(coalesce(sum(messages) FILTER (WHERE status_class IN {{ reached_classes }}), 0) AS BIGINT) AS delivered,
    CAST(coalesce(sum(messages) FILTER (WHERE status_class IN {{ failure_classes }}), 0) AS BIGINT) AS failures,
    CAST(coalesce(sum(messages) FILTER (WHERE status_class IN {{ pending_classes }}), 0) AS BIGINT) AS without_receipt
FROM daily_history, target
WHERE date BETWEEN target.day - 29 AND target.day
GROUP BY date
ORDER BY date
