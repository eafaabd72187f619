-- The days the data spans (any connection), so that days without a connection to the
-- main port count as zero in figure 1.
SELECT DISTINCT local_date AS date
FROM connections
ORDER BY date
