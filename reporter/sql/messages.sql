-- One row per message (`message_base`, internal: the destination is still in clear here): its final
-- status is its highest-ranked event (read 5, delivered 4, failed/undelivered 3, submitted 2,
-- queued 1, unknown 0), ties to the latest event_time, then the higher code, then the input line,
-- then the input file, so the winner never depends on thread timing. An event without a message_id
-- is its own message. One GROUP BY: the ordering key (vocabulary.FINAL_EVENT_KEY, the Spark path
-- renders the same) packs (rank, time in microseconds, code, line) into one HUGEINT beside the file
-- index, cheaper to compare than a struct of five, and arg_max carries the final event's fields
-- in a struct (reporter/schema.py's `message_fields`); a join back to the events cost about 7 s more at
-- 20M events. Unsorted: each writer orders by
-- first_src (the input position of the message's first event), see extracts.write_messages.
WITH with_id AS (
    SELECT
        message_id AS message_key,
        message_id,  -- the group's key: not carried again in the final event's struct
        arg_max(
            struct_pack({{ message_fields() }}),
            {{ final_event_key() }}
        ) AS f,
        min(event_src) AS first_src,
        min(event_time) AS first_event_at,
        max(event_time) AS last_event_at,
        min(event_time) FILTER (WHERE {{ reached(status_rank) }}) AS first_delivered_at,  -- delivered or read
        count(*) AS events,
        bool_or(out_of_region) AS out_of_region,
        bool_or(unsupported_channel) AS unsupported_channel,
        bool_or(code_source = 'none') AS has_unknown_code
    FROM enriched_events
    WHERE message_id IS NOT NULL
    GROUP BY message_id
),
-- An event without a message_id is a message of its own, keyed by its input file and line.
without_id AS (
    SELECT
        'event:' || left(f.sha256, 12) || ':' || e.source_line AS message_key,
        e.message_id,
        struct_pack({{ message_fields(e.) }}) AS f,
        e.event_src AS first_src,
        e.event_time AS first_event_at,
        e.event_time AS last_event_at,
        CASE WHEN {{ reached(e.status_rank) }} THEN e.event_time END AS first_delivered_at,
        1 AS events,
        e.out_of_region,
        e.unsupported_channel,
        e.code_source = 'none' AS has_unknown_code
    FROM enriched_events AS e
    JOIN ingest_files AS f ON f.source_index = e.source_index
    WHERE e.message_id IS NULL
),
per_message AS (
    SELECT * FROM with_id
    UNION ALL
    SELECT * FROM without_id
)
SELECT
    CAST(first_event_at AS DATE) AS date,
    message_key,
    message_id,
    f.channel,
    f.region,
    first_event_at,
    f.event_time AS final_event_at,
    last_event_at,
    events,
    f.status_code,
    out_of_region,
    unsupported_channel,
    has_unknown_code,
    {{ message_details(f.) }},  -- the final event's fields (reporter/schema.py)
    first_delivered_at,  -- internal (delivery_times): not in the messages extract
    first_src
FROM per_message
