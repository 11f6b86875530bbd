-- title: US/Canada-only codes outside the US and Canada
-- description: Events whose code the document lists only for tenants hosted in the US and Canada, seen in another region.
SELECT channel, region, status_code, CAST(sum(events) AS BIGINT) AS events
FROM event_counts
WHERE out_of_region
GROUP BY ALL
ORDER BY events DESC, channel, region, status_code
