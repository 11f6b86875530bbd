-- title: Messages by final status code
-- description: Messages per channel, region and final status code, with the code's class and failure category.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
SELECT
    channel,
    region,
    status_code,
    status_class,
    failure_category,
    any_value(code_message) AS code_message,
    CAST(sum(messages) AS BIGINT) AS messages
FROM message_counts
WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY channel, region, status_code, status_class, failure_category
ORDER BY channel, region, messages DESC, status_code
