-- Connections per source (for countries: each source is looked up once).
SELECT src, COUNT(*) AS connections
FROM connections
GROUP BY src
