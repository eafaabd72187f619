-- The report's tables computed by DuckDB straight from a raw Honeyd log, for bench/report.sh.
-- A plain script with read_csv and regular expressions, as a researcher would write it.
-- ${LOG} is replaced by the script. Times are read as written (the log's local time).
CREATE TABLE lines AS
SELECT line FROM read_csv('${LOG}', columns = {'line': 'VARCHAR'}, delim = E'\x01',
                          header = false, quote = '', escape = '', auto_detect = false);

CREATE TABLE ev AS
SELECT substr(line, 1, 10) AS date,
       CAST(substr(line, 12, 2) AS INTEGER) AS hour,
       CAST(regexp_extract(line, '\((\d+)\) ', 1) AS INTEGER) AS proto,
       string_split(line, ' ') AS f,
       regexp_extract(line, ' \[([^\]]*)\]', 1) AS os
FROM lines
WHERE line NOT LIKE '%honeyd log %';

CREATE TABLE conn AS
SELECT date, hour, proto, f[4] AS src,
       CASE WHEN proto IN (6, 17) THEN CAST(rtrim(f[7], ':') AS INTEGER) END AS dport,
       os
FROM ev
WHERE (proto = 6 AND (f[3] = 'S' OR (f[3] = '-' AND f[9] LIKE '%S%' AND f[9] NOT LIKE '%A%')))
   OR (proto = 17 AND f[3] IN ('S', '-'))
   OR (proto = 1 AND f[3] = '-');

-- totals
SELECT count(*), count(DISTINCT src) FROM conn;
-- table 1
SELECT proto, dport, count(*) AS n, 100.0 * count(*) / (SELECT count(*) FROM conn), count(DISTINCT src)
FROM conn GROUP BY proto, dport ORDER BY n DESC;
-- figure 1
SELECT date, count(*) FROM conn WHERE proto = 6 AND dport = 23 GROUP BY date ORDER BY date;
-- table 2
CREATE TABLE multi AS
WITH pp AS (SELECT src, proto, dport, count(*) AS n FROM conn GROUP BY ALL)
SELECT * FROM pp WHERE src IN (
    SELECT src FROM pp WHERE proto = 6 AND dport = 23
    INTERSECT
    SELECT src FROM pp WHERE (proto = 17 AND dport = 53413) OR (proto = 6 AND dport = 6379));
SELECT src, sum(n) AS total FROM multi GROUP BY src ORDER BY total DESC;
-- activity of the top three
SELECT src, date, hour, proto, dport, count(*) FROM conn
WHERE src IN (SELECT src FROM multi GROUP BY src ORDER BY sum(n) DESC LIMIT 3)
GROUP BY ALL ORDER BY ALL;
-- table 3
SELECT CASE WHEN os LIKE 'Linux%' THEN 'Linux' WHEN os LIKE 'Windows%' THEN 'Windows'
            WHEN os LIKE 'Solaris%' THEN 'Solaris' WHEN os = '' OR os IS NULL THEN 'unknown'
            ELSE 'other' END AS cls, count(*)
FROM conn WHERE proto = 6 AND dport = 23 GROUP BY cls ORDER BY 2 DESC;
