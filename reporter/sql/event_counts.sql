-- Events counted by every dimension a breakdown needs: small, so the report and the named
-- queries never read events or messages for event figures. Events are grouped first on their own
-- columns (event_groups.sql); the classification joins the (small) groups.
SELECT
    g.date,
    g.hour,
    g.channel,
    g.region,
    g.status_code,
    c.status_class,
    c.code_source,
    c.failure_category,
    {{ out_of_region(c.region_scope, g.region) }} AS out_of_region,
    c.unsupported_channel,
    g.events
FROM event_groups AS g
JOIN code_lookup AS c USING (channel, status_code)
ORDER BY ALL
