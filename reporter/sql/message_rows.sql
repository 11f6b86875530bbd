-- `message_rows`, a view: the messages (`message_base`) classified through code_lookup, with the
-- destination country, destination still in clear. What the small aggregates read (message_counts,
-- by_carrier; delivery_seconds needs no country and reads message_base); the writers read
-- `messages_public`. The country of a destination prefix is looked up once per prefix (outcomes.py),
-- on the messages' final destinations only.
SELECT
    m.date,
    m.message_key,
    m.message_id,
    m.channel,
    m.region,
    m.first_event_at,
    m.final_event_at,
    m.last_event_at,
    m.events,
    m.status_code,
    c.status_class,
    c.code_message,
    c.failure_category,
    c.retryable,
    c.code_source,
    c.is_failure,
    m.out_of_region,
    m.unsupported_channel,
    m.has_unknown_code,
    d.country AS destination_country,
    {{ message_details(m.) }},  -- the final event's fields (reporter/schema.py)
    m.first_delivered_at,
    m.first_src
FROM message_base AS m
JOIN code_lookup AS c ON c.channel = m.channel AND c.status_code = m.status_code
LEFT JOIN destination_prefixes AS d ON d.prefix = destination_prefix(m.channel, m.destination)
