-- title: Status codes seen
-- description: Every (channel, code) the period's events carried, with its documented message, classification, source line and events.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
SELECT
    e.channel,
    e.status_code,
    any_value(e.code_source) AS code_source,
    any_value(e.status_class) AS status_class,
    any_value(e.failure_category) AS failure_category,
    any_value(d.message) AS message,
    any_value(d.source_line) AS source_line,
    CAST(sum(e.events) AS BIGINT) AS events
FROM event_counts AS e
LEFT JOIN status_codes AS d
    ON d.code = e.status_code AND d.channel = CASE e.code_source WHEN 'common' THEN 'common' ELSE e.channel END
WHERE e.date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY e.channel, e.status_code
ORDER BY e.channel, e.status_code
