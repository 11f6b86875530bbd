-- One row per message: its final status is its highest-ranked event (read 5, delivered 4,
-- failed/undelivered 3, submitted 2, queued 1, unknown 0), ties to the latest event_time, then
-- the higher code. An event without a message_id is its own message.
WITH keyed AS (
    SELECT
        *,
        coalesce(message_id, 'event:' || left(source_sha256, 12) || ':' || source_line) AS message_key,
        CASE status_class
            WHEN 'read' THEN 5 WHEN 'delivered' THEN 4 WHEN 'failed' THEN 3 WHEN 'undelivered' THEN 3
            WHEN 'submitted' THEN 2 WHEN 'queued' THEN 1 ELSE 0
        END AS status_rank
    FROM enriched_events
),
per_message AS (
    SELECT
        message_key,
        arg_max(
            struct_pack(message_id, channel, region, event_time, status_code, status_class, code_message,
                        failure_category, retryable, code_source, sender, tenant, carrier),
            struct_pack(status_rank, event_time, status_code)
        ) AS final,
        min(event_time) AS first_event_at,
        max(event_time) AS last_event_at,
        count(*) AS events,
        max(destination) AS destination,
        bool_or(out_of_region) AS out_of_region,
        bool_or(unsupported_channel) AS unsupported_channel,
        bool_or(code_source = 'none') AS has_unknown_code
    FROM keyed
    GROUP BY message_key
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
    final.sender,
    final.tenant,
    final.carrier
FROM per_message
