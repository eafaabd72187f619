-- Table 3 of the seed: operating-system classes of the main port's connections (passive
-- fingerprint of the source; `unknown` when there was none).
SELECT os_class AS os,
       COUNT(*) AS connections,
       100.0 * COUNT(*) / SUM(COUNT(*)) OVER () AS share_pct
FROM connections
WHERE proto = ${main_proto} AND dport = ${main_port}
GROUP BY os_class
ORDER BY connections DESC, os
