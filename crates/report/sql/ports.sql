-- Table 1 of the seed: connections per destination port and protocol, their share of all
-- connections and their distinct sources. ICMP has no port (NULL).
SELECT proto_name AS proto,
       dport AS port,
       COUNT(*) AS connections,
       100.0 * COUNT(*) / (SELECT COUNT(*) FROM connections) AS share_pct,
       COUNT(DISTINCT src) AS sources
FROM connections
GROUP BY proto_name, dport
ORDER BY connections DESC, proto, port
