-- Time to delivery per message (first event to first delivered/read event, `first_delivered_at`
-- from messages.sql) and whether it still waits for a receipt: the small per-message column
-- delivery_times' quantiles need (kept across buckets when the messages are built in buckets).
-- $as_of: the latest event time of the run's input; $timeout_minutes: the receipt timeout.
SELECT
    date,
    channel,
    region,
    (epoch_us(first_delivered_at) - epoch_us(first_event_at)) / 1e6 AS seconds,
    status_class IN {{ pending_classes }}
        AND first_event_at < CAST($as_of AS TIMESTAMPTZ) - to_minutes(CAST($timeout_minutes AS BIGINT))
        AS without_receipt
FROM message_rows
