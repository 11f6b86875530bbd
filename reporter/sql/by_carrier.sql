-- Messages and failures per carrier of the final event (Webex Connect sends one for US/Canada
-- numbers), with the destination country: only messages whose final event names a carrier.
SELECT
    date,
    channel,
    region,
    destination_country,
    carrier,
    count(*) AS messages,
    count(*) FILTER (WHERE is_failure) AS failures
FROM message_rows
WHERE carrier IS NOT NULL AND carrier <> ''
GROUP BY ALL
ORDER BY ALL
