-- Figure 1 of the seed: connections per day to the main port (days in the report's zone).
SELECT local_date AS date, COUNT(*) AS connections
FROM connections
WHERE proto = ${main_proto} AND dport = ${main_port}
GROUP BY local_date
ORDER BY date
