-- title: Data quality findings
-- description: Quarantined rows by reason, duplicate events, events with unknown codes, US/Canada-only codes seen elsewhere, events on unsupported channels.
SELECT 'quarantined' AS finding, reason AS detail, CAST(sum(rows) AS BIGINT) AS count
FROM quarantine
GROUP BY reason
UNION ALL
SELECT 'duplicate events', NULL, CAST(sum(duplicates) AS BIGINT) FROM inputs
UNION ALL
SELECT 'unknown code events', NULL, CAST(coalesce(sum(events) FILTER (WHERE code_source = 'none'), 0) AS BIGINT) FROM event_counts
UNION ALL
SELECT 'out-of-region code events', NULL, CAST(coalesce(sum(events) FILTER (WHERE out_of_region), 0) AS BIGINT) FROM event_counts
UNION ALL
SELECT 'unsupported channel events', NULL, CAST(coalesce(sum(events) FILTER (WHERE unsupported_channel), 0) AS BIGINT) FROM event_counts
ORDER BY finding, detail
