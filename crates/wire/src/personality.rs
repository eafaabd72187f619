//! Personalities: how the stacks we impersonate build the packets they send.
//!
//! A personality is data: TTL, DF, IP ID behaviour, the SYN+ACK's window, MSS, window scale
//! and option layout, and the timestamp clock. [`crate::reply`] builds every reply the
//! sensor sends from one, so a passive fingerprinter (p0f) sees the stack we meant. The
//! values come from the same sources as the built-in p0f database
//! (`docs/FINGERPRINT.md`), and a test checks our SYN+ACKs with p0f itself.

/// How a stack numbers its IP datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpId {
    /// Always 0 (Linux's SYN+ACKs and RSTs with DF set).
    Zero,
    /// One counter per host, +1 per datagram (Windows, Solaris, Cisco IOS, FreeBSD before
    /// RFC 6864 IDs).
    Counter,
    /// A fresh pseudo-random value per datagram (OpenBSD).
    Random,
}

/// The receive window a SYN+ACK advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// A fixed number of bytes.
    Fixed(u16),
    /// N times the segment size in use: the smaller of the two MSSes, less 12 bytes when
    /// timestamps were agreed (Linux's `tcp_openreq_init_rwin`).
    Mss(u8),
    /// A buffer of this many bytes rounded down to a whole number of segments (Linux 4.20
    /// and later: 64 KB, so 64240 at MSS 1460, 65160 with timestamps).
    Rounded(u32),
}

/// How a stack lays out SYN+ACK options. A SYN+ACK carries window scaling, SACK-permitted
/// and timestamps only when the SYN offered them; each stack pads the ones it keeps in its
/// own way, which is what p0f's option layout sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionStyle {
    /// `mss`, then `sok,ts` (or `nop,nop,ts` / `nop,nop,sok` alone), then `nop,ws`
    /// (Linux `tcp_options_write`; illumos lays them out the same way).
    Linux,
    /// `mss`, `nop,ws`, `nop,nop,ts`, `nop,nop,sok` (Windows XP, with TSval 0).
    WindowsXp,
    /// `mss`, `nop,ws`, then `sok,ts` (or `nop,nop,sok` / `nop,nop,ts` alone) (Windows
    /// Vista and later, as in public captures of Windows 7–10 servers).
    Windows,
    /// `mss`, `nop,ws`, `sok`, timestamps aligned with NOPs, EOL padding at the end
    /// (FreeBSD `tcp_addoptions`).
    FreeBsd,
    /// `mss`, `nop,ws`, `nop,nop,ts`, `sok`, EOL padding (XNU `tcp_output`).
    MacOs,
    /// Only the MSS (Cisco IOS).
    MssOnly,
}

/// TCP option kinds (RFC 9293, RFC 7323, RFC 2018).
mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WS: u8 = 3;
    pub const SOK: u8 = 4;
    pub const TS: u8 = 8;
}

/// The options a SYN offered, as far as a SYN+ACK's layout depends on them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offered {
    /// The client's MSS (536 when it sent none, RFC 9293 3.7.1).
    pub mss: Option<u16>,
    /// Window scaling was offered.
    pub ws: bool,
    /// The shift the window-scale option carried.
    pub ws_shift: Option<u8>,
    /// SACK was permitted.
    pub sok: bool,
    /// The client's TSval, when it sent timestamps.
    pub ts: Option<u32>,
    /// The timestamp the client echoed (TSecr): on a handshake's final ACK, our SYN+ACK's
    /// TSval.
    pub ts_echo: Option<u32>,
}

impl Offered {
    /// Reads the offer from a SYN's TCP options. Malformed options end the walk, as a
    /// stack would stop there.
    pub fn from_options(mut opts: &[u8]) -> Offered {
        let mut o = Offered::default();
        while let Some((&k, rest)) = opts.split_first() {
            match k {
                kind::EOL => break,
                kind::NOP => {
                    opts = rest;
                    continue;
                }
                _ => {}
            }
            let Some(&len) = rest.first() else { break };
            let len = len as usize;
            if len < 2 || len > opts.len() {
                break;
            }
            let body = &opts[2..len];
            match (k, body.len()) {
                (kind::MSS, 2) => o.mss = Some(u16::from_be_bytes([body[0], body[1]])),
                (kind::WS, 1) => {
                    o.ws = true;
                    o.ws_shift = Some(body[0]);
                }
                (kind::SOK, 0) => o.sok = true,
                (kind::TS, 8) => {
                    o.ts = Some(u32::from_be_bytes([body[0], body[1], body[2], body[3]]));
                    o.ts_echo = Some(u32::from_be_bytes([body[4], body[5], body[6], body[7]]));
                }
                _ => {}
            }
            opts = &opts[len..];
        }
        o
    }
}

/// One stack's way of answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Personality {
    /// The name configs use (`linux-5`).
    pub name: &'static str,
    /// What it imitates, for humans.
    pub description: &'static str,
    /// Initial TTL of every datagram.
    pub ttl: u8,
    /// Don't Fragment on TCP replies.
    pub df: bool,
    /// IP ID behaviour.
    pub ip_id: IpId,
    /// The SYN+ACK's receive window.
    pub window: Window,
    /// Our MSS (what our link would allow).
    pub mss: u16,
    /// Window scale we announce when the SYN offered scaling.
    pub wscale: u8,
    /// Option layout.
    pub options: OptionStyle,
    /// Timestamp clock in ticks per second; 0 sends TSval 0 (Windows XP).
    pub ts_hz: u32,
}

impl Personality {
    /// The SYN+ACK's TCP options for a SYN that offered `offered`, given our TSval.
    pub fn syn_ack_options(&self, offered: &Offered, tsval: u32) -> Vec<u8> {
        let mut o = Vec::with_capacity(40);
        o.extend([kind::MSS, 4]);
        o.extend(self.mss.to_be_bytes());
        if self.options == OptionStyle::MssOnly {
            return o;
        }
        let ws = |o: &mut Vec<u8>| {
            if offered.ws {
                o.extend([kind::NOP, kind::WS, 3, self.wscale]);
            }
        };
        let ts = |o: &mut Vec<u8>| {
            if let Some(echo) = offered.ts {
                o.extend([kind::TS, 10]);
                o.extend(tsval.to_be_bytes());
                o.extend(echo.to_be_bytes());
            }
        };
        // SACK-permitted and timestamps side by side, or each after two NOPs.
        let sok_ts = |o: &mut Vec<u8>| match (offered.sok, offered.ts.is_some()) {
            (true, true) => {
                o.extend([kind::SOK, 2]);
                ts(o);
            }
            (true, false) => o.extend([kind::NOP, kind::NOP, kind::SOK, 2]),
            (false, true) => {
                o.extend([kind::NOP, kind::NOP]);
                ts(o);
            }
            (false, false) => {}
        };
        match self.options {
            OptionStyle::Linux => {
                sok_ts(&mut o);
                ws(&mut o);
            }
            OptionStyle::Windows => {
                ws(&mut o);
                sok_ts(&mut o);
            }
            OptionStyle::WindowsXp => {
                ws(&mut o);
                if offered.ts.is_some() {
                    o.extend([kind::NOP, kind::NOP]);
                    ts(&mut o);
                }
                if offered.sok {
                    o.extend([kind::NOP, kind::NOP, kind::SOK, 2]);
                }
            }
            OptionStyle::FreeBsd => {
                ws(&mut o);
                if offered.sok {
                    o.extend([kind::SOK, 2]);
                }
                if offered.ts.is_some() {
                    while o.len() % 4 != 2 {
                        o.push(kind::NOP);
                    }
                    ts(&mut o);
                }
            }
            OptionStyle::MacOs => {
                ws(&mut o);
                if offered.ts.is_some() {
                    o.extend([kind::NOP, kind::NOP]);
                    ts(&mut o);
                }
                if offered.sok {
                    o.extend([kind::SOK, 2]);
                }
            }
            OptionStyle::MssOnly => {}
        }
        while o.len() % 4 != 0 {
            o.push(kind::EOL);
        }
        o
    }

    /// The SYN+ACK's window for a SYN that offered `offered`.
    pub fn syn_ack_window(&self, offered: &Offered) -> u16 {
        match self.window {
            Window::Fixed(w) => w,
            Window::Mss(n) => (self.segment(offered) * u32::from(n)).min(65535) as u16,
            Window::Rounded(bytes) => {
                let seg = self.segment(offered).max(1);
                (bytes / seg * seg).min(65535) as u16
            }
        }
    }

    /// The segment size of a connection: the smaller MSS, less the timestamp option.
    fn segment(&self, offered: &Offered) -> u32 {
        let mss = offered.mss.unwrap_or(536).min(self.mss);
        let seg = if offered.ts.is_some() && self.options != OptionStyle::MssOnly {
            mss.saturating_sub(12)
        } else {
            mss
        };
        u32::from(seg)
    }

    /// Our TSval at `now_us` (microseconds of the sensor's clock).
    pub fn tsval(&self, now_us: u64) -> u32 {
        // Wide arithmetic: any clock rate, any time, no division by zero.
        (u128::from(now_us) * u128::from(self.ts_hz) / 1_000_000) as u32
    }
}

/// The built-in personalities. Sources as in `docs/FINGERPRINT.md`; the set the sensor
/// issue names (Linux 2.6 and 5.x, BusyBox, Windows XP and 7/10, FreeBSD, Cisco IOS,
/// Solaris 10).
pub const BUILTIN: &[Personality] = &[
    Personality {
        name: "linux-5",
        description: "Linux 4.20 and newer (5.x, 6.x): window 64 KB rounded to the segment, scale 7",
        ttl: 64,
        df: true,
        ip_id: IpId::Zero,
        window: Window::Rounded(65536),
        mss: 1460,
        wscale: 7,
        options: OptionStyle::Linux,
        ts_hz: 1000,
    },
    Personality {
        name: "linux-2.6",
        description: "Linux 2.6 (up to 2.6.36): window 4 segments, scale 7",
        ttl: 64,
        df: true,
        ip_id: IpId::Zero,
        window: Window::Mss(4),
        mss: 1460,
        wscale: 7,
        options: OptionStyle::Linux,
        ts_hz: 250,
    },
    Personality {
        name: "busybox",
        description: "an embedded BusyBox Linux 2.6 board (router, IP camera, DVR) with little memory: window 4 segments, scale 2",
        ttl: 64,
        df: true,
        ip_id: IpId::Zero,
        window: Window::Mss(4),
        mss: 1460,
        wscale: 2,
        options: OptionStyle::Linux,
        ts_hz: 100,
    },
    Personality {
        name: "windows-xp",
        description: "Windows XP: TTL 128, window 65535, scale 0, TSval 0",
        ttl: 128,
        df: true,
        ip_id: IpId::Counter,
        window: Window::Fixed(65535),
        mss: 1460,
        wscale: 0,
        options: OptionStyle::WindowsXp,
        ts_hz: 0,
    },
    Personality {
        name: "windows-7",
        description: "Windows 7 to 10 1607 and Server 2008-2016: window 8192, scale 8",
        ttl: 128,
        df: true,
        ip_id: IpId::Counter,
        window: Window::Fixed(8192),
        mss: 1460,
        wscale: 8,
        options: OptionStyle::Windows,
        ts_hz: 10,
    },
    Personality {
        name: "windows-10",
        description: "Windows 10 1703 and newer, Server 2019 and newer: window 65535, scale 8",
        ttl: 128,
        df: true,
        ip_id: IpId::Counter,
        window: Window::Fixed(65535),
        mss: 1460,
        wscale: 8,
        options: OptionStyle::Windows,
        ts_hz: 1000,
    },
    Personality {
        name: "freebsd",
        description: "FreeBSD 9 and newer: window 65535, scale 6",
        ttl: 64,
        df: true,
        ip_id: IpId::Counter,
        window: Window::Fixed(65535),
        mss: 1460,
        wscale: 6,
        options: OptionStyle::FreeBsd,
        ts_hz: 1000,
    },
    Personality {
        name: "macos",
        description: "macOS: window 65535, scale 6",
        ttl: 64,
        df: true,
        ip_id: IpId::Zero,
        window: Window::Fixed(65535),
        mss: 1460,
        wscale: 6,
        options: OptionStyle::MacOs,
        ts_hz: 1000,
    },
    Personality {
        name: "cisco-ios",
        description: "Cisco IOS: TTL 255, no DF, window 4128, only the MSS option",
        ttl: 255,
        df: false,
        ip_id: IpId::Counter,
        window: Window::Fixed(4128),
        mss: 1460,
        wscale: 0,
        options: OptionStyle::MssOnly,
        ts_hz: 0,
    },
    Personality {
        name: "solaris-10",
        description: "Solaris 10: window 34 segments (a 48 KB buffer), scale 0",
        ttl: 64,
        df: true,
        ip_id: IpId::Counter,
        window: Window::Mss(34),
        mss: 1460,
        wscale: 0,
        options: OptionStyle::Linux,
        ts_hz: 100,
    },
];

/// A built-in personality by name.
pub fn builtin(name: &str) -> Option<&'static Personality> {
    BUILTIN.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(opts: &[u8]) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut i = 0;
        while i < opts.len() {
            let (name, len) = match opts[i] {
                0 => ("eol", 1),
                1 => ("nop", 1),
                2 => ("mss", 4),
                3 => ("ws", 3),
                4 => ("sok", 2),
                8 => ("ts", 10),
                _ => ("?", 1),
            };
            v.push(name);
            i += len;
        }
        v
    }

    const FULL: Offered = Offered {
        mss: Some(1460),
        ws: true,
        ws_shift: Some(7),
        sok: true,
        ts: Some(77),
        ts_echo: Some(0),
    };

    #[test]
    fn layouts_follow_each_stack() {
        let p = |n| builtin(n).unwrap();
        let cases: &[(&str, Offered, &str)] = &[
            ("linux-5", FULL, "mss,sok,ts,nop,ws"),
            (
                "linux-5",
                Offered { ts: None, ..FULL },
                "mss,nop,nop,sok,nop,ws",
            ),
            (
                "linux-5",
                Offered { sok: false, ..FULL },
                "mss,nop,nop,ts,nop,ws",
            ),
            (
                "linux-5",
                Offered {
                    mss: Some(1460),
                    ..Default::default()
                },
                "mss",
            ),
            ("windows-7", FULL, "mss,nop,ws,sok,ts"),
            (
                "windows-7",
                Offered { ts: None, ..FULL },
                "mss,nop,ws,nop,nop,sok",
            ),
            ("windows-xp", FULL, "mss,nop,ws,nop,nop,ts,nop,nop,sok"),
            ("freebsd", FULL, "mss,nop,ws,sok,ts"),
            (
                "freebsd",
                Offered { ts: None, ..FULL },
                "mss,nop,ws,sok,eol,eol",
            ),
            (
                "freebsd",
                Offered {
                    sok: false,
                    ws: false,
                    ..FULL
                },
                "mss,nop,nop,ts",
            ),
            ("macos", FULL, "mss,nop,ws,nop,nop,ts,sok,eol,eol"),
            ("cisco-ios", FULL, "mss"),
        ];
        for (name, offered, want) in cases {
            let opts = p(name).syn_ack_options(offered, 5);
            assert_eq!(opts.len() % 4, 0, "{name}");
            assert_eq!(layout(&opts).join(","), *want, "{name} {offered:?}");
        }
    }

    #[test]
    fn windows_from_the_segment_size() {
        let linux = builtin("linux-5").unwrap();
        assert_eq!(linux.syn_ack_window(&FULL), 65160);
        assert_eq!(linux.syn_ack_window(&Offered { ts: None, ..FULL }), 64240);
        let old = builtin("linux-2.6").unwrap();
        assert_eq!(old.syn_ack_window(&FULL), 5792);
        assert_eq!(old.syn_ack_window(&Offered::default()), 536 * 4);
        assert_eq!(builtin("windows-7").unwrap().syn_ack_window(&FULL), 8192);
    }

    #[test]
    fn timestamp_clocks() {
        let mut p = builtin("linux-2.6").unwrap().clone();
        assert_eq!(p.tsval(1_000_000), 250);
        p.ts_hz = 0;
        assert_eq!(p.tsval(1_000_000), 0, "Windows XP's TSval 0");
        p.ts_hz = 10_000_000;
        assert_eq!(p.tsval(3), 30, "a clock faster than a microsecond");
    }

    #[test]
    fn offers_read_from_options() {
        let linux_syn = [
            2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        assert_eq!(
            Offered::from_options(&linux_syn),
            Offered {
                mss: Some(1460),
                ws: true,
                ws_shift: Some(7),
                sok: true,
                ts: Some(9),
                ts_echo: Some(0),
            }
        );
        assert_eq!(Offered::from_options(&[]), Offered::default());
        // Truncated and zero-length options stop the walk without panicking.
        assert_eq!(Offered::from_options(&[2, 4, 5]), Offered::default());
        assert_eq!(Offered::from_options(&[3, 0, 1, 1]), Offered::default());
    }
}
