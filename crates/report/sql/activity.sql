-- Activity windows: for the chosen sources, connections per day, hour and port.
SELECT src, local_date AS date, local_hour AS hour, proto_name AS proto, dport AS port,
       COUNT(*) AS connections
FROM connections
WHERE src IN (${sources})
GROUP BY src, local_date, local_hour, proto_name, dport
ORDER BY src, date, hour, proto, port
