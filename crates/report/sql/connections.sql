-- The connections the seed counted, one row each (docs/REPORT.md, "What is a connection").
--   TCP: a SYN without ACK: a Honeyd `S` line, or a `-` line whose flags have S and not A
--        (tcp_flags & 18 = 2: SYN is 2, ACK is 16).
--   UDP: a flow start or a datagram to a port (`S` or `-` lines).
--   ICMP and ICMPv6: every probe.
-- Flow ends and stray ACK/RST segments are not connections.
-- Input table `events`: the event schema (docs/EVENTS.md) plus the report's derived columns
-- local_date (a DATE in the report's zone), local_hour (0-23) and os_class.
-- A table, not a view: every other query reads it, so it is filtered once.
CREATE TABLE connections AS
SELECT ts, local_date, local_hour, src, proto, proto_name, dport, os_class
FROM events
WHERE (proto = 6 AND (kind = 'flow_start' OR (kind = 'probe' AND (tcp_flags & 18) = 2)))
   OR (proto = 17 AND kind IN ('flow_start', 'probe'))
   OR (proto IN (1, 58) AND kind = 'probe')
