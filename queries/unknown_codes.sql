-- title: Unknown status codes
-- description: Codes found in no dimension row for their channel nor in the common table, with their events.
SELECT channel, status_code, CAST(sum(events) AS BIGINT) AS events
FROM event_counts
WHERE code_source = 'none'
GROUP BY ALL
ORDER BY events DESC, channel, status_code
