-- One row per message (`message_base`, internal: the destination is still in clear here): its final
-- status is its highest-ranked event (read 5, delivered 4, failed/undelivered 3, submitted 2,
-- queued 1, unknown 0), ties to the latest event_time, then the higher code, then the input line,
-- then the input file, so the winner never depends on thread timing. An event without a message_id
-- is its own message. One GROUP BY keeps a message's figures and the input position (event_src,
-- unique per event) of its final event, by the order key of the `final_event_key` macro
-- (vocabulary.FINAL_EVENT_KEY: the fields packed into one HUGEINT, with the file index in its low
-- bits up to 256 files and beside it in a struct past that; outcomes.prepare_outcomes defines it).
-- The final event's fields (reporter/schema.py's `message_fields`) are then joined back from the
-- events by that position: arg_max carrying them in a struct took DuckDB's generic path, and the
-- GROUP BY three times as long. At 10M events, 10.0 -> 8.5 s and 0.7 GiB less resident; at 20M, one
-- pass 16.4 s against 24.8 in two (bench/RESULTS.md). Unsorted: each writer orders by first_src (the
-- input position of the message's first event), see extracts.write_messages.
WITH by_id AS (
    SELECT
        message_id,
        arg_max(
            event_src, final_event_key(status_rank, event_time, status_code, source_line, source_index)
        ) AS final_src,
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
-- The final event's fields, joined back from `events` by its position (in passes, each pass reads
-- every event here, and keeps those of its own messages).
with_id AS (
    SELECT
        m.message_id AS message_key,
        m.message_id,
        struct_pack({{ message_fields(e.) }}) AS f,
        m.first_src,
        m.first_event_at,
        m.last_event_at,
        m.first_delivered_at,
        m.events,
        m.out_of_region,
        m.unsupported_channel,
        m.has_unknown_code
    FROM by_id AS m
    JOIN events AS e ON e.event_src = m.final_src
    WHERE e.message_id IS NOT NULL
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
