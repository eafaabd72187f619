-- Table 2 of the seed: sources that hit the main port and at least one of the other named
-- ports, with their connections on every (protocol, port) they hit.
WITH per_port AS (
    SELECT src, proto, proto_name, dport, COUNT(*) AS connections
    FROM connections
    GROUP BY src, proto, proto_name, dport
),
chosen AS (
    SELECT src FROM per_port WHERE proto = ${main_proto} AND dport = ${main_port}
    INTERSECT
    SELECT src FROM per_port WHERE ${also_predicate}
)
SELECT p.src, p.proto_name AS proto, p.dport AS port, p.connections
FROM per_port p
JOIN chosen c ON p.src = c.src
ORDER BY p.src, p.connections DESC, proto, port
