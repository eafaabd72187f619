#!/usr/bin/env python3
"""Write a synthetic Honeyd packet log for benchmarks: N lines over April 2016, shaped like
the seed's telescope (TCP/23 about 73 % of connections, UDP/53413, TCP/80, 8080, 6379 and a
long tail; S/E flows on the web ports; a few OS labels and scanner remarks).

usage: gen-honeyd-log.py LINES OUT [SEED]
"""
import random
import sys

def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 2016)
    start = 1459468800  # 2016-04-01T00:00:00Z
    span = 30 * 86400
    step = span / n
    sources = ["%d.%d.%d.%d" % (rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
                                rng.randint(1, 254)) for _ in range(90000)]
    oses = ["Linux 2.6 .1-7", "Linux 2.6 ", "Windows XP SP1", "Solaris 10 beta"]
    tail = [rng.randint(1, 65535) for _ in range(2000)]
    import time
    buf = []
    t = float(start)
    with open(out, "w") as f:
        for i in range(n):
            t += step
            sec = int(t)
            frac = int((t - sec) * 10000)
            ts = time.strftime("%Y-%m-%d-%H:%M:%S", time.gmtime(sec)) + ".%04d" % frac
            src = sources[int(rng.paretovariate(1.2)) % len(sources)]
            dst = "198.51.100.%d" % rng.randint(1, 254)
            sp = rng.randint(1024, 65535)
            r = rng.random()
            com = (" [%s]" % oses[int(r * 1000) % 4]) if r < 0.5 and int(r * 7919) % 2 == 0 else ""
            if r < 0.73:
                buf.append("%s tcp(6) - %s %d %s 23: 40 S%s\n" % (ts, src, sp, dst, com))
            elif r < 0.76:
                buf.append("%s udp(17) - %s %d %s 53413: 51\n" % (ts, src, sp, dst))
            elif r < 0.78:
                buf.append("%s tcp(6) S %s %d %s 80%s\n" % (ts, src, sp, dst, com))
            elif r < 0.80:
                buf.append("%s tcp(6) E %s %d %s 80: %d %d\n" % (ts, src, sp, dst, rng.randint(0, 900), rng.randint(0, 20000)))
            elif r < 0.81:
                buf.append("%s icmp(1) - %s %s: 8(0): 84\n" % (ts, src, dst))
            elif r < 0.815:
                buf.append("%s tcp(6) - %s %d %s %d: 40 S {Honeyd Scanner?}\n" % (ts, src, sp, dst, rng.randint(1, 1024)))
            elif r < 0.83:
                buf.append("%s tcp(6) - %s %d %s 6379: 40 S\n" % (ts, src, sp, dst))
            elif r < 0.85:
                buf.append("%s tcp(6) - %s %d %s 23: 40 R\n" % (ts, src, sp, dst))
            else:
                buf.append("%s tcp(6) - %s %d %s %d: 40 S\n" % (ts, src, sp, dst, rng.choice(tail)))
            if len(buf) >= 100000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))

if __name__ == "__main__":
    main()
