-- Table 2 of the seed: sources that hit the main port and at least one of the other named
-- ports, with their connections on every (protocol, port) they hit.
-- The other ports are few and quiet: find their sources first, then keep those that also hit
-- the main port, so that only a small set of sources is ever hashed.
WITH also_sources AS (
    SELECT DISTINCT src FROM connections WHERE ${also_predicate}
),
chosen AS (
    SELECT DISTINCT src
    FROM connections
    WHERE proto = ${main_proto} AND dport = ${main_port}
      AND src IN (SELECT src FROM also_sources)
)
SELECT c.src, c.proto_name AS proto, c.dport AS port, COUNT(*) AS connections
FROM connections c
JOIN chosen s ON c.src = s.src
GROUP BY c.src, c.proto_name, c.dport
ORDER BY c.src, connections DESC, proto, port
