-- The classification of every (channel, code) pair the events carry: the channel's own row for
-- the code, else the common row, else the lifecycle meaning of 7500/7501/7502/1001 (sent on every
-- channel, documented on most), else unknown. Computed on the distinct pairs (a few hundred), so
-- each event needs one join; the dimension has one row per (channel, code), so nothing fans out.
WITH pairs AS (
    SELECT DISTINCT channel, status_code FROM event_groups  -- the events grouped (event_groups.sql)
),
classified AS (
    SELECT
        p.channel,
        p.status_code,
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
        coalesce(CASE WHEN ch.code IS NOT NULL THEN ch.region_scope ELSE cm.region_scope END, 'all') AS region_scope,
        NOT coalesce(s.supported, true) AS unsupported_channel
    FROM pairs AS p
    LEFT JOIN status_codes AS ch ON ch.channel = p.channel AND ch.code = p.status_code
    LEFT JOIN status_codes AS cm ON cm.channel = 'common' AND cm.code = p.status_code
    LEFT JOIN lifecycle_codes AS lc ON lc.code = p.status_code
    LEFT JOIN channel_support AS s ON s.channel = p.channel
)
SELECT
    *,
    -- A message's final status is its highest-ranked event (ranks: reporter/vocabulary.py).
    {{ status_rank(status_class) }} AS status_rank,
    {{ is_failure(status_class) }} AS is_failure
FROM classified
