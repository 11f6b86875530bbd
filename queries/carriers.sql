-- title: Carriers by failures
-- description: Messages whose final event names a carrier (Webex Connect sends one for US and Canada numbers), per channel, destination country and carrier: messages, failures and failure rate, the carriers with the most failures first.
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
-- param limit: rows returned (default 20)
SELECT
    channel,
    coalesce(destination_country, 'unknown') AS destination_country,
    carrier,
    CAST(sum(messages) AS BIGINT) AS messages,
    CAST(sum(failures) AS BIGINT) AS failures,
    round(sum(failures) / sum(messages), 4) AS failure_rate
FROM by_carrier
WHERE date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY ALL
ORDER BY failures DESC, messages DESC, channel, destination_country, carrier
LIMIT coalesce(CAST($limit AS INTEGER), 20)
