-- title: Destination countries
-- description: Messages, failures and failure rate per destination country (from the E.164 number) for the channels that send to phone numbers (SMS, MMS, WhatsApp, Voice, RCS).
-- param start: first date included (YYYY-MM-DD); all dates when omitted
-- param end: last date included (YYYY-MM-DD); all dates when omitted
SELECT
    channel,
    coalesce(destination_country, 'unknown') AS destination_country,
    CAST(sum(messages) AS BIGINT) AS messages,
    CAST(coalesce(sum(messages) FILTER (WHERE is_failure), 0) AS BIGINT) AS failures,
    round(coalesce(sum(messages) FILTER (WHERE is_failure), 0) / sum(messages), 4) AS failure_rate
FROM message_counts
WHERE channel IN {{ phone_channels }}
    AND date BETWEEN coalesce(CAST($start AS DATE), DATE '0001-01-01') AND coalesce(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY ALL
ORDER BY channel, messages DESC, destination_country
