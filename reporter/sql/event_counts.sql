-- Events counted by every dimension a breakdown needs: small, so the report and the named
-- queries never read events or messages for event figures. Events are grouped first on their own
-- columns; the classification joins the (small) groups.
WITH grouped AS (
    SELECT
        CAST(event_time AS DATE) AS date,
        CAST(date_part('hour', event_time) AS INTEGER) AS hour,
        channel,
        region,
        status_code,
        count(*) AS events
    FROM events
    GROUP BY ALL
)
SELECT
    g.date,
    g.hour,
    g.channel,
    g.region,
    g.status_code,
    c.status_class,
    c.code_source,
    c.failure_category,
    c.region_scope = 'us+ca' AND g.region NOT IN ('us', 'ca') AS out_of_region,
    c.unsupported_channel,
    g.events
FROM grouped AS g
JOIN code_lookup AS c USING (channel, status_code)
ORDER BY ALL
