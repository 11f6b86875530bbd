-- Messages counted by every dimension a breakdown needs: small (222 thousand rows for 9.6M
-- messages), so the report and the named queries never read the messages themselves. Grouped on
-- the messages' own columns first (message_groups.sql); the classification, which depends on
-- (channel, status_code) alone, joins the (small) groups, as in event_counts.
SELECT
    g.* EXCLUDE (messages),
    c.* EXCLUDE (channel, status_code, region_scope, unsupported_channel, status_rank),
    g.messages
FROM message_groups AS g
JOIN code_lookup AS c USING (channel, status_code)
ORDER BY ALL
