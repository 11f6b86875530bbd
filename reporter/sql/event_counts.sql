-- Events counted by every dimension a breakdown needs: small, so the report and the named
-- queries never read events or messages for event figures.
SELECT
    CAST(event_time AS DATE) AS date,
    CAST(date_part('hour', event_time) AS INTEGER) AS hour,
    channel,
    region,
    status_code,
    status_class,
    code_source,
    failure_category,
    out_of_region,
    unsupported_channel,
    count(*) AS events
FROM enriched_events
GROUP BY ALL
