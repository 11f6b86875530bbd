-- title: Time to delivery
-- description: Per day, channel and region and each coarser level (column level; an empty date, channel or region means all): messages, those delivered or read, the exact median and 95th percentile (quantile_cont) of seconds from a message's first event to its first delivered or read event, and messages still without a final receipt after the configured timeout.
-- param level: one of date_channel_region, date_channel, date, channel_region, channel, all; every level when omitted
-- param channel: one channel key (e.g. sms); every channel when omitted
SELECT *
FROM delivery_times
WHERE level = coalesce(CAST($level AS VARCHAR), level)
    AND (CAST($channel AS VARCHAR) IS NULL OR channel = $channel)
ORDER BY
    list_position(['date_channel_region', 'date_channel', 'date', 'channel_region', 'channel', 'all'], level),
    date, channel, region
