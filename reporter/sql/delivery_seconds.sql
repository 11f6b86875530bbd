-- Time to delivery per message (first event to first delivered/read event, `first_delivered_at`
-- from messages.sql) and whether it still waits for a receipt: the small per-message column
-- delivery_times' quantiles need (kept across buckets when the messages are built in buckets).
-- Reads message_base with its class, not message_rows: the destination country is not needed, and
-- its join made this 0.9 s at 10M events instead of 0.6.
-- $as_of: the latest event time of the run's input; $timeout_minutes: the receipt timeout.
SELECT
    m.date,
    m.channel,
    m.region,
    (epoch_us(m.first_delivered_at) - epoch_us(m.first_event_at)) / 1e6 AS seconds,
    c.status_class IN {{ pending_classes }}
        AND m.first_event_at < CAST($as_of AS TIMESTAMPTZ) - to_minutes(CAST($timeout_minutes AS BIGINT))
        AS without_receipt
FROM message_base AS m
JOIN code_lookup AS c ON c.channel = m.channel AND c.status_code = m.status_code
