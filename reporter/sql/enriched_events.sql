-- Every accepted event, classified: the channel's own row for its code, else the common row,
-- else the lifecycle meaning of 7500/7501/7502/1001 (sent on every channel, documented on most),
-- else unknown. The dimension has one row per (channel, code), so no join fans out.
SELECT
    e.*,
    f.sha256 AS source_sha256,
    CASE
        WHEN ch.code IS NOT NULL THEN 'channel'
        WHEN cm.code IS NOT NULL THEN 'common'
        WHEN lc.code IS NOT NULL THEN 'lifecycle'
        ELSE 'none'
    END AS code_source,
    coalesce(ch.status_class, cm.status_class, lc.status_class, 'unknown') AS status_class,
    coalesce(ch.message, cm.message, lc.message) AS code_message,
    CASE WHEN ch.code IS NOT NULL THEN ch.failure_category ELSE cm.failure_category END AS failure_category,
    CASE WHEN ch.code IS NOT NULL THEN ch.retryable ELSE cm.retryable END AS retryable,
    coalesce(CASE WHEN ch.code IS NOT NULL THEN ch.region_scope ELSE cm.region_scope END, 'all') = 'us+ca'
        AND e.region NOT IN ('us', 'ca') AS out_of_region,
    NOT coalesce(s.supported, true) AS unsupported_channel
FROM events AS e
JOIN ingest_files AS f ON f.source_index = e.source_index
LEFT JOIN status_codes AS ch ON ch.channel = e.channel AND ch.code = e.status_code
LEFT JOIN status_codes AS cm ON cm.channel = 'common' AND cm.code = e.status_code
LEFT JOIN lifecycle_codes AS lc ON lc.code = e.status_code
LEFT JOIN channel_support AS s ON s.channel = e.channel
