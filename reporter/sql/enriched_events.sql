-- Every accepted event with its code's classification (code_lookup) and data-quality flags.
SELECT
    e.*,
    c.code_source,
    c.status_class,
    c.status_rank,
    c.code_message,
    c.failure_category,
    c.retryable,
    {{ out_of_region(c.region_scope, e.region) }} AS out_of_region,
    c.unsupported_channel,
    destination_prefix(e.channel, e.destination) AS destination_prefix
FROM events AS e
JOIN code_lookup AS c USING (channel, status_code)
