-- One row per message: its final status is its highest-ranked event (read 5, delivered 4,
-- failed/undelivered 3, submitted 2, queued 1, unknown 0), ties to the latest event_time, then
-- the higher code. An event without a message_id is its own message.
-- The ordering key packs (rank, time in microseconds, code) into one HUGEINT: one comparison per event.
WITH per_message AS (
    SELECT
        coalesce(e.message_id, 'event:' || left(f.sha256, 12) || ':' || e.source_line) AS message_key,
        arg_max(
            struct_pack(e.message_id, e.channel, e.region, e.event_time, e.status_code, e.status_class,
                        e.code_message, e.failure_category, e.retryable, e.code_source, e.sender, e.tenant,
                        e.carrier),
            (CAST(e.status_rank AS HUGEINT) << 88) + (CAST(epoch_us(e.event_time) AS HUGEINT) << 24) + e.status_code
        ) AS final,
        min(e.event_time) AS first_event_at,
        max(e.event_time) AS last_event_at,
        count(*) AS events,
        max(e.destination) AS destination,
        bool_or(e.out_of_region) AS out_of_region,
        bool_or(e.unsupported_channel) AS unsupported_channel,
        bool_or(e.code_source = 'none') AS has_unknown_code
    FROM enriched_events AS e
    JOIN ingest_files AS f ON f.source_index = e.source_index
    GROUP BY ALL
)
SELECT
    CAST(first_event_at AS DATE) AS date,
    message_key,
    final.message_id,
    final.channel,
    final.region,
    first_event_at,
    final.event_time AS final_event_at,
    last_event_at,
    events,
    final.status_code,
    final.status_class,
    final.code_message,
    final.failure_category,
    final.retryable,
    final.code_source,
    final.status_class IN ('failed', 'undelivered') AS is_failure,
    out_of_region,
    unsupported_channel,
    has_unknown_code,
    destination,
    -- The first digits of an international phone number: enough to tell its country (outcomes.py).
    CASE
        WHEN final.channel NOT IN ('sms', 'mms', 'whatsapp', 'voice') THEN NULL
        WHEN starts_with(destination, '+') THEN left(destination, 7)
        WHEN starts_with(destination, '00') THEN '+' || substr(destination, 3, 6)
    END AS destination_prefix,
    final.sender,
    final.tenant,
    final.carrier
FROM per_message
ORDER BY date, message_key
