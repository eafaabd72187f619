; honeyscope's built-in p0f v3 signature database.
;
; Written for honeyscope (MIT OR Apache-2.0, like the rest of the project) from documented
; facts about each stack: its source code, its vendor's documentation, or public captures.
; It is not derived from p0f's p0f.fp. Every signature names its source in a comment;
; docs/FINGERPRINT.md ("The built-in database") has the full citations.
;
; The format is p0f v3's, so `p0f -f` reads this file as well, and
; crates/wire/src/p0f/agreement.rs checks that p0f and honeyscope label every packet shaped
; like these signatures the same way.
;
; Signature: ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass
; Label:     type:class:name:flavor   (type s = specific, g = generic; class ! = a tool)
;
; Conventions used below:
;   - "*" where the stack's value depends on the route, memory or a sysctl;
;   - SYN windows are written as mss*N where the stack computes them from the MSS;
;   - specific signatures come before generic ones of the same stack: p0f takes the first
;     specific match in file order, and a generic one only when no specific one matched.

classes = win,unix,other

; ---------------------------------------------------------------------------------------
; Link MTU, from MSS + 40 (IPv4) or + 60 (IPv6).
; ---------------------------------------------------------------------------------------

[mtu]

; IEEE 802.3 / RFC 894.
label = Ethernet
sig   = 1500

; RFC 2516 section 7: PPPoE's MRU is at most 1492.
label = PPPoE
sig   = 1492

; RFC 2003 (IP in IP) and RFC 4213 (6in4, "SIT"): a 20-byte outer IPv4 header.
label = IPIP or 6in4 tunnel
sig   = 1480

; RFC 2784: GRE adds 4 bytes to the 20-byte outer header.
label = GRE tunnel
sig   = 1476

; wireguard-tools, wg-quick: the interface MTU is the route's MTU minus 80 bytes.
label = WireGuard
sig   = 1420

; RFC 8200 section 5: the IPv6 minimum link MTU.
label = IPv6 minimum MTU
sig   = 1280

; RFC 879 / RFC 1122: the default MSS 536 when none is agreed, plus 40.
label = minimum (576)
sig   = 576

; ---------------------------------------------------------------------------------------
; SYN: who connects to us.
; ---------------------------------------------------------------------------------------

[tcp:request]

; --- Linux -----------------------------------------------------------------------------
; TTL 64 (IPDEFTTL); DF set (path MTU discovery); the IP ID of a connected socket is a
; non-zero per-socket counter (ip_select_ident); options mss,sok,ts,nop,ws with the default
; sysctls (tcp_options_write). The SYN window changed with the kernel:
;   <= 2.6.36: 4 * MSS (tcp_select_initial_window, init_cwnd = 4)
;      2.6.37: 3 * MSS (rfc3390_bytes_to_packets)
;   2.6.38-3.10: 10 * MSS (TCP_DEFAULT_INIT_RCVWND, commit 356f039822b8)
;   3.11-4.19: 20 * MSS (tcp_default_init_rwnd = 2 * TCP_INIT_CWND)
;   >= 4.20: 64 KB rounded down to the MSS, 44 * 1460 (tcp_rmem[1] = 128 KB, commit a337531b942b)
; Window scale follows tcp_rmem[2], which is sized from the machine's memory: 7 on servers
; and desktops (10 on kernels with the 32 MB tcp_rmem[2]), 1-4 on boards with 128 MB or
; less — routers, IP cameras and DVRs running BusyBox on an old kernel.
; Over IPv6, kernels since 3.17 put a flow label on every connection (auto_flowlabels), so
; the 3.11 and later signatures carry `flow` (p0f ignores it for IPv4, and df/id+ for IPv6).

label = s:unix:Linux:2.6.36 and older (embedded)
sig   = *:64:0:*:mss*4,1:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*4,2:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*4,3:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*4,4:mss,sok,ts,nop,ws:df,id+:0

label = s:unix:Linux:2.6.38-3.10 (embedded)
sig   = *:64:0:*:mss*10,1:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*10,2:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*10,3:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*10,4:mss,sok,ts,nop,ws:df,id+:0

label = s:unix:Linux:3.11-4.19 (embedded)
sig   = *:64:0:*:mss*20,1:mss,sok,ts,nop,ws:df,id+,flow:0
sig   = *:64:0:*:mss*20,2:mss,sok,ts,nop,ws:df,id+,flow:0
sig   = *:64:0:*:mss*20,3:mss,sok,ts,nop,ws:df,id+,flow:0
sig   = *:64:0:*:mss*20,4:mss,sok,ts,nop,ws:df,id+,flow:0

label = s:unix:Linux:4.20 and newer
sig   = *:64:0:*:mss*44,*:mss,sok,ts,nop,ws:df,id+,flow:0
sig   = *:64:0:*:mss*45,*:mss,sok,ts,nop,ws:df,id+,flow:0
sig   = *:64:0:*:mss*46,*:mss,sok,ts,nop,ws:df,id+,flow:0

label = s:unix:Linux:3.11-4.19
sig   = *:64:0:*:mss*20,*:mss,sok,ts,nop,ws:df,id+,flow:0

label = s:unix:Linux:2.6.38-3.10
sig   = *:64:0:*:mss*10,*:mss,sok,ts,nop,ws:df,id+:0

label = s:unix:Linux:2.6.37
sig   = *:64:0:*:mss*3,*:mss,sok,ts,nop,ws:df,id+:0

label = s:unix:Linux:2.6.36 and older
sig   = *:64:0:*:mss*4,*:mss,sok,ts,nop,ws:df,id+:0

; With net.ipv4.tcp_timestamps=0 the kernel pads SACK-permitted with two NOPs instead
; (tcp_options_write).
label = g:unix:Linux:2.6 and newer (timestamps off)
sig   = *:64:0:*:*,*:mss,nop,nop,sok,nop,ws:df,id+:0

label = g:unix:Linux:2.6 and newer
sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+,flow:0
sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0

; --- Android ---------------------------------------------------------------------------
; Android runs Linux, so most of its SYNs fall under the kernel era above. Its kernels also
; let the vendor set the initial receive window (tcp_default_init_rwnd, written from AOSP's
; init.rc), and from Android 5 phones send 65535 with scale 8-10, a window no stock kernel
; era gives at MSS 1460 (public captures: Android 5.1.1, 9, 10, 11).

label = s:unix:Android:5 and newer
sig   = *:64:0:*:65535,*:mss,sok,ts,nop,ws:df,id+,flow:0

; --- Windows ---------------------------------------------------------------------------
; DefaultTTL 128 (Microsoft, "TCP/IP Implementation Details"); DF (path MTU discovery);
; no timestamps by default (Tcp1323Opts); SACK on. Before Vista no window scaling: options
; mss,nop,nop,sok, window a multiple of the MSS up to 64 KB (17520 on Ethernet by default).
; Vista and later: mss,nop,ws,nop,nop,sok with receive window auto-tuning, scale 8 (2 with
; some auto-tuning levels); the SYN window was 8192 up to Windows 10 1607 and 64240 from
; 1903 on. Windows values as seen in public captures whose OS the capture itself names
; (docs/FINGERPRINT.md).

label = s:win:Windows:XP
sig   = *:128:0:*:65535,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:64512,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:16384,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:mss*44,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:mss*12,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:mss*6,0:mss,nop,nop,sok:df,id+:0

label = s:win:Windows:7 to 10 1607
sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = *:128:0:*:8192,2:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = *:128:0:*:8192,0:mss,nop,nop,sok:df,id+:0

label = s:win:Windows:10 1903 and newer, or 11
sig   = *:128:0:*:64240,8:mss,nop,ws,nop,nop,sok:df,id+:0

label = g:win:Windows:XP or older
sig   = *:128:0:*:*,0:mss,nop,nop,sok:df,id+:0

label = g:win:Windows:Vista and newer
sig   = *:128:0:*:*,*:mss,nop,ws,nop,nop,sok:df,id+:0

; --- macOS and iOS (XNU) ---------------------------------------------------------------
; bsd/netinet/tcp_output.c: mss, nop+ws, nop+nop+ts, then SACK-permitted last, padded with
; EOL to a multiple of 4. TTL 64 (ip_defttl); DF with path MTU discovery; window 65535 (the
; SYN window is never scaled and the buffer is larger). The scale grew with the releases
; (tcp_set_max_rwinscale): 3 on 10.4-10.6, 4 on 10.8-10.9, 5 on 10.10-10.13, 6 from 10.14
; (public captures). Since 10.13 the IP ID is 0 on DF packets (net.inet.ip.rfc6864), and
; recent releases ask for ECN on some connections (tcp_ecn_setup_percentage).

label = s:unix:macOS:10.13 and newer, or iOS
sig   = *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df:0
sig   = *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df,ecn:0

label = s:unix:macOS:10.10-10.12, or iOS 10
sig   = *:64:0:*:65535,5:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0

label = s:unix:macOS:10.8-10.9
sig   = *:64:0:*:65535,4:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0

label = s:unix:macOS:10.4-10.6
sig   = *:64:0:*:65535,3:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0

label = g:unix:macOS:or iOS
sig   = *:64:0:*:*,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df:0
sig   = *:64:0:*:*,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0

; --- FreeBSD ---------------------------------------------------------------------------
; sys/netinet/tcp_output.c, tcp_addoptions(): "MSS + NOP + Window scale + SACK permitted +
; Timestamp". Window 65535 (tcp_recvspace 64 KB); scale 6 (SB_MAX 2 MB); TTL 64; DF with
; path MTU discovery; IP ID 0 on DF packets (ip_rfc6864 = 1, ip_id.c), counters before.

label = s:unix:FreeBSD:
sig   = *:64:0:*:65535,6:mss,nop,ws,sok,ts:df:0
sig   = *:64:0:*:65535,6:mss,nop,ws,sok,ts:df,id+:0

label = g:unix:FreeBSD:
sig   = *:64:0:*:*,*:mss,nop,ws,sok,ts:df:0
sig   = *:64:0:*:*,*:mss,nop,ws,sok,ts:df,id+:0

; --- OpenBSD ---------------------------------------------------------------------------
; sys/netinet/tcp_output.c: mss, nop+nop+sok, nop+ws, nop+nop+ts. Window 16384
; (tcp_recvspace); scale 3 (SB_MAX 256 KB) or 6 (SB_MAX 2 MB, current), and 0 in a public
; capture of OpenBSD 5.5; random IP ID on every packet (ip_output.c, ip_randomid); TTL 64;
; DF with path MTU discovery.

label = s:unix:OpenBSD:
sig   = *:64:0:*:16384,0:mss,nop,nop,sok,nop,ws,nop,nop,ts:df,id+:0
sig   = *:64:0:*:16384,3:mss,nop,nop,sok,nop,ws,nop,nop,ts:df,id+:0
sig   = *:64:0:*:16384,6:mss,nop,nop,sok,nop,ws,nop,nop,ts:df,id+:0

label = g:unix:OpenBSD:
sig   = *:64:0:*:*,*:mss,nop,nop,sok,nop,ws,nop,nop,ts:df,id+:0

; --- Solaris ---------------------------------------------------------------------------
; usr/src/uts/common/inet/tcp: TCP's own TTL is 64 (tcp_tunables.c, _ipv4_ttl; IP's 255 is
; for other protocols); window scale and timestamps on by default, options mss,sok,ts,nop,ws
; (tcp_output.c, tcp_tunables.c): the layout, TTL and DF of Linux. What tells Solaris 10
; apart is its window: the 49152-byte receive buffer rounded up to the MSS, 34 * 1460, with
; scale 0 (tcp.c, tcp_set_ws_value). illumos today (128000 bytes, 44 * 1460, scale 1) looks
; like Linux 4.20 and later, so it has no signature of its own.

label = s:unix:Solaris:10
sig   = *:64:0:*:mss*34,0:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*34,0:mss,sok,ts,nop,ws:df:0

; --- Cisco IOS -------------------------------------------------------------------------
; A public capture of two Cisco IOS devices (SSH banners "Cisco-1.25"): TTL 255, no DF,
; window 4128, only the MSS option, in SYN and SYN+ACK alike.

label = s:other:Cisco:IOS
sig   = *:255:0:*:4128,0:mss::0

; --- Scanners and attack tools ---------------------------------------------------------
; Raw-socket tools build the whole packet themselves, so their SYNs carry the tool's
; choices, not the host's.

; nmap -sS (tcpip.cc, scan_engine_raw.cc): random TTL 37-59, window 1024 (1024-4096 before
; 2011), only MSS 1460, no DF, random IP ID.
label = s:!:nmap:SYN scan
sys   = @unix,@win
sig   = *:64-:0:1460:1024,0:mss::0
sig   = *:64-:0:1460:2048,0:mss::0
sig   = *:64-:0:1460:3072,0:mss::0
sig   = *:64-:0:1460:4096,0:mss::0

; masscan (src/templ-pkt.c): TTL 255, window 1024, no DF; no options up to 1.3.2, MSS 1460
; since late 2023.
label = s:!:masscan:
sys   = @unix,@win
sig   = *:255:0:*:1024,0:::0
sig   = *:255:0:1460:1024,0:mss::0

; ZMap up to 4.0 (packet.c, module_tcp_synscan.c): TTL 255, window 65535, IP ID 54321, no
; DF; no options (2.x) or MSS 1460 (3.x). 4.1 and later send TTL 64 and Windows-like
; options by default, but without DF.
label = s:!:ZMap:
sys   = @unix,@win
sig   = *:255:0:*:65535,0:::0
sig   = *:255:0:1460:65535,0:mss::0
sig   = *:64:0:1460:65535,8:mss,nop,ws,nop,nop,sok::0

; hping3 -S (hping2.h, sendtcp.c): TTL 64, window 512, no options, no DF, and a random
; acknowledgment number even without the ACK flag (often p0f's ack+).
label = s:!:hping3:
sys   = @unix
sig   = *:64:0:*:512,0:::0
sig   = *:64:0:*:512,0::ack+:0

; Mirai's scanner (mirai/bot/scanner.c) and its many descendants: raw SYNs to 23 and 2323
; with TTL 64, no options, no DF, a random IP ID, a random window fixed per bot, and the
; target address as the sequence number. Any option-less TTL-64 raw SYN looks the same to
; p0f's model, hence generic.
label = g:!:Mirai:or another raw-socket scanner
sys   = @unix
sig   = *:64:0:*:*,0:::0

; ---------------------------------------------------------------------------------------
; SYN+ACK: what servers answer. A SYN+ACK only carries the options its SYN offered; these
; signatures assume a SYN that offered them all, as current clients do.
; ---------------------------------------------------------------------------------------

[tcp:response]

; --- Linux -----------------------------------------------------------------------------
; Same options and TTL as its SYNs (and flow labels over IPv6); the IP ID is 0
; (ip_build_and_send_pkt). The window is
; the SYN's, computed from the MSS less 12 bytes when timestamps were agreed
; (tcp_openreq_init_rwin); p0f's mss*N tries MSS - 12 too.

label = s:unix:Linux:4.20 and newer
sig   = *:64:0:*:mss*45,*:mss,sok,ts,nop,ws:df,flow:0
sig   = *:64:0:*:mss*44,*:mss,sok,ts,nop,ws:df,flow:0

label = s:unix:Linux:3.11-4.19
sig   = *:64:0:*:mss*20,*:mss,sok,ts,nop,ws:df,flow:0

label = s:unix:Linux:2.6.38-3.10
sig   = *:64:0:*:mss*10,*:mss,sok,ts,nop,ws:df:0

label = s:unix:Linux:2.6.36 and older
sig   = *:64:0:*:mss*4,*:mss,sok,ts,nop,ws:df:0

label = g:unix:Linux:2.6 and newer (timestamps off)
sig   = *:64:0:*:*,*:mss,nop,nop,sok,nop,ws:df:0

label = g:unix:Linux:2.6 and newer
sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,flow:0
sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df:0

; --- Windows ---------------------------------------------------------------------------
; As its SYNs, with timestamps only when the client offered them (then mss,nop,ws,sok,ts;
; XP answers with window scale 0 and a TSval of 0, p0f's ts1-).
; The SYN+ACK window was 8192 up to Windows 10 1607 / Server 2016 and 65535 from 1703 and
; Server 2019 on (public captures).

label = s:win:Windows:XP
sig   = *:128:0:*:65535,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:65535,0:mss,nop,ws,nop,nop,ts,nop,nop,sok:df,id+,ts1-:0
sig   = *:128:0:*:mss*44,0:mss,nop,ws,nop,nop,ts,nop,nop,sok:df,id+,ts1-:0

label = s:win:Windows:Vista to 10 1607
sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = *:128:0:*:8192,8:mss,nop,ws,sok,ts:df,id+:0
sig   = *:128:0:*:8192,0:mss,nop,nop,sok:df,id+:0

label = s:win:Windows:10 1703 and newer, Server 2019 and newer
sig   = *:128:0:*:65535,8:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = *:128:0:*:65535,8:mss,nop,ws,sok,ts:df,id+:0

label = g:win:Windows:
sig   = *:128:0:*:*,*:mss,nop,ws,sok,ts:df,id+:0
sig   = *:128:0:*:*,*:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = *:128:0:*:*,0:mss,nop,nop,sok:df,id+:0

; --- Cisco IOS: as its SYNs ------------------------------------------------------------
label = s:other:Cisco:IOS
sig   = *:255:0:*:4128,0:mss::0

; --- FreeBSD, macOS, OpenBSD: the SYN's layout, answered by the syncache ----------------
label = g:unix:FreeBSD:
sig   = *:64:0:*:65535,*:mss,nop,ws,sok,ts:df:0
sig   = *:64:0:*:65535,*:mss,nop,ws,sok,ts:df,id+:0

label = g:unix:macOS:or iOS
sig   = *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df:0
sig   = *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0
sig   = *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df,ecn:0

label = g:unix:OpenBSD:
sig   = *:64:0:*:16384,*:mss,nop,nop,sok,nop,ws,nop,nop,ts:df,id+:0

label = s:unix:Solaris:10
sig   = *:64:0:*:mss*34,0:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*34,0:mss,sok,ts,nop,ws:df:0
