#!/usr/bin/env python3
"""Writes a pcap of N TCP SYNs (Ethernet, IPv4 and some IPv6) shaped like the stacks a
telescope sees: Linux (several window scales), Windows, macOS, FreeBSD, embedded BusyBox-like
Linux without timestamps, and scanners (nmap, masscan, zmap-like). Sources, ports and TTLs
vary; every SYN is its own connection, so p0f fingerprints each.

    bench/gen-syn-pcap.py N OUT.pcap
"""
import random
import struct
import sys

def opts_linux(ws):
    return bytes([2, 4, 0x05, 0xb4, 4, 2, 8, 10]) + struct.pack(">II", random.getrandbits(32) | 1, 0) + bytes([1, 3, 3, ws])

def opts_windows():
    return bytes([2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2])

def opts_macos():
    return bytes([2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10]) + struct.pack(">II", random.getrandbits(32) | 1, 0) + bytes([4, 2, 0, 0])

def opts_freebsd():
    return bytes([2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2, 8, 10]) + struct.pack(">II", random.getrandbits(32) | 1, 0)

def opts_mss():
    return bytes([2, 4, 0x05, 0xb4])

# (weight, ttl, df, window, options)
SHAPES = [
    (30, 64, True, lambda: 29200, lambda: opts_linux(7)),
    (10, 64, True, lambda: 64240, lambda: opts_linux(8)),
    (10, 64, True, lambda: 5840, lambda: bytes([2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 2])),
    (15, 128, True, lambda: 8192, opts_windows),
    (5, 64, True, lambda: 65535, opts_macos),
    (5, 64, True, lambda: 65535, opts_freebsd),
    (15, 64, False, lambda: 1024, opts_mss),            # nmap -sS
    (5, 255, False, lambda: 1024, lambda: b""),          # masscan-like, no options
    (5, 64, False, lambda: 65535, opts_mss),            # zmap-like
]
WEIGHTS = [s[0] for s in SHAPES]

def syn(i):
    _, ttl, df, win, opts = random.choices(SHAPES, WEIGHTS)[0]
    o = opts()
    while len(o) % 4:
        o += b"\0"
    hops = random.randrange(0, 20)
    tcp = struct.pack(">HHIIBBHHH", random.randrange(1024, 65535), random.choice([23, 2323, 80, 8080, 22, 445]),
                      random.getrandbits(32) | 1, 0, ((20 + len(o)) // 4) << 4, 0x02, win(), 0, 0) + o
    if i % 10 == 9:
        src = b"\x20\x01\x0d\xb8" + random.getrandbits(96).to_bytes(12, "big")
        dst = b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x07"
        ip = struct.pack(">IHBB16s16s", 6 << 28, len(tcp), 6, ttl - hops, src, dst)
        eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x86\xdd"
    else:
        src = struct.pack(">I", random.getrandbits(32))
        dst = bytes([198, 51, 100, random.randrange(1, 255)])
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16) | 1,
                         0x4000 if df else 0, ttl - hops, 6, 0, src, dst)
        eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
    return eth + ip + tcp

def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    random.seed(2016)
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        t = 1_459_468_800
        for i in range(n):
            frame = syn(i)
            f.write(struct.pack("<IIII", t + i // 100_000, (i % 100_000) * 10, len(frame), len(frame)))
            f.write(frame)

main()
