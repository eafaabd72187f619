-- Totals: connections, distinct sources, first and last connection.
SELECT COUNT(*) AS connections,
       COUNT(DISTINCT src) AS sources,
       MIN(ts) AS first,
       MAX(ts) AS last
FROM connections
