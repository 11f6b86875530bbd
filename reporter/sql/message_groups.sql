-- Messages grouped on their own columns: the heavy part of message_counts. DuckDB and Spark SQL
-- both run this same text (reporter/spark/ reads it too). It reads `message_rows`, not the public
-- messages: none of these columns is the destination, so the join to its masked form is not paid.
SELECT
    date,
    date_trunc('hour', first_event_at) AS hour,
    channel,
    region,
    status_code,
    sender,
    destination_country,
    count(*) AS messages
FROM message_rows
GROUP BY ALL
