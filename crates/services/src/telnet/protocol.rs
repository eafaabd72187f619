//! The Telnet protocol (RFC 854, 855, 1143), sans-IO: bytes from the client in; the data
//! they carry, the negotiation answers to send, and what the client told us about itself
//! out. No I/O and no clock, so a test (or the fuzzer) drives it with any split of the
//! input.
//!
//! * Commands: `IAC IAC` is a data byte 255; `DO`/`DONT`/`WILL`/`WONT` run the option
//!   state machine below; `SB … SE` is collected (bounded) and parsed for NAWS, TTYPE and
//!   NEW-ENVIRON; the one-byte commands (`NOP`, `AYT`, `IP`, …) are reported and dropped.
//! * Options: we answer as RFC 1143's "Q method" says, without its queue bits. A request
//!   that would not change an option's state gets no answer, so two peers that both insist
//!   cannot loop. We agree to do `ECHO` and `SGA` ourselves, and ask the client for `NAWS`,
//!   `TTYPE` and `NEW-ENVIRON`; everything else is refused.
//! * What we offer first is the caller's (a device profile's): bots such as Mirai wait for
//!   the server's negotiation before they send a byte.

/// Telnet command and option codes.
pub mod code {
    /// Interpret As Command.
    pub const IAC: u8 = 255;
    /// Refuse the client's option.
    pub const DONT: u8 = 254;
    /// Ask the client to enable an option.
    pub const DO: u8 = 253;
    /// Refuse to enable an option ourselves.
    pub const WONT: u8 = 252;
    /// Offer to enable an option ourselves.
    pub const WILL: u8 = 251;
    /// Subnegotiation begins.
    pub const SB: u8 = 250;
    /// Go ahead.
    pub const GA: u8 = 249;
    /// Erase line.
    pub const EL: u8 = 248;
    /// Erase character.
    pub const EC: u8 = 247;
    /// Are you there.
    pub const AYT: u8 = 246;
    /// Abort output.
    pub const AO: u8 = 245;
    /// Interrupt process.
    pub const IP: u8 = 244;
    /// Break.
    pub const BRK: u8 = 243;
    /// Data mark.
    pub const DM: u8 = 242;
    /// No operation.
    pub const NOP: u8 = 241;
    /// Subnegotiation ends.
    pub const SE: u8 = 240;

    /// Option: echo (RFC 857).
    pub const ECHO: u8 = 1;
    /// Option: suppress go-ahead (RFC 858).
    pub const SGA: u8 = 3;
    /// Option: terminal type (RFC 1091).
    pub const TTYPE: u8 = 24;
    /// Option: negotiate about window size (RFC 1073).
    pub const NAWS: u8 = 31;
    /// Option: linemode (RFC 1184), refused.
    pub const LINEMODE: u8 = 34;
    /// Option: new environment (RFC 1572).
    pub const NEW_ENVIRON: u8 = 39;
}

use code::*;

/// The longest subnegotiation kept; the rest of a longer one is dropped (and counted).
pub const MAX_SUBNEGOTIATION: usize = 512;

/// One negotiation we send: a command (`DO`, `DONT`, `WILL`, `WONT`) and an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiation {
    /// `DO`, `DONT`, `WILL` or `WONT`.
    pub command: u8,
    /// The option code.
    pub option: u8,
}

/// What the client did, besides sending data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelnetEvent {
    /// A `DO`, `DONT`, `WILL` or `WONT` from the client.
    Negotiated(Negotiation),
    /// Its window size (NAWS).
    WindowSize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
    /// Its terminal type (TTYPE IS).
    TerminalType(String),
    /// Environment variables it sent (NEW-ENVIRON IS or INFO): name and value, lossy text.
    Environment(Vec<(String, String)>),
    /// A subnegotiation of another option, or one that did not parse: its option and bytes.
    Subnegotiation {
        /// The option.
        option: u8,
        /// Its bytes after the option code (unescaped, at most [`MAX_SUBNEGOTIATION`]).
        data: Vec<u8>,
    },
    /// A one-byte command (`NOP`, `AYT`, `IP`, `BRK`, …).
    Command(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    /// After `IAC`.
    Iac,
    /// After `IAC DO` (or DONT, WILL, WONT): the option comes next.
    Option(u8),
    /// Inside `SB`, the option code next.
    SbOption,
    /// Inside `SB option …`.
    Sb,
    /// Inside `SB`, after an `IAC`.
    SbIac,
}

/// Which side of an option.
#[derive(Debug, Clone, Copy)]
enum Side {
    /// We perform it (answered with WILL/WONT).
    Us,
    /// The client performs it (answered with DO/DONT).
    Them,
}

/// Options we are willing to perform.
fn we_do(option: u8) -> bool {
    matches!(option, ECHO | SGA)
}

/// Options we want the client to perform.
fn they_may(option: u8) -> bool {
    matches!(option, NAWS | TTYPE | NEW_ENVIRON | SGA)
}

/// A Telnet connection's protocol state.
#[derive(Debug, Clone)]
pub struct Telnet {
    state: State,
    /// Options on, as bit sets over the 256 codes: ours and the client's.
    us: [u64; 4],
    them: [u64; 4],
    /// Options we asked for and have no answer to yet.
    asked_us: [u64; 4],
    asked_them: [u64; 4],
    sb_option: u8,
    sb: Vec<u8>,
    /// Subnegotiation bytes dropped for length.
    pub sb_truncated: u64,
}

fn bit(set: &[u64; 4], o: u8) -> bool {
    set[usize::from(o >> 6)] >> (o & 63) & 1 == 1
}

fn put(set: &mut [u64; 4], o: u8, on: bool) {
    let w = &mut set[usize::from(o >> 6)];
    if on {
        *w |= 1 << (o & 63);
    } else {
        *w &= !(1 << (o & 63));
    }
}

impl Telnet {
    /// A connection that opens with `offer`: the bytes to send first go to `out`.
    pub fn new(offer: &[Negotiation], out: &mut Vec<u8>) -> Telnet {
        let mut t = Telnet {
            state: State::Data,
            us: [0; 4],
            them: [0; 4],
            asked_us: [0; 4],
            asked_them: [0; 4],
            sb_option: 0,
            sb: Vec::new(),
            sb_truncated: 0,
        };
        for n in offer {
            match n.command {
                WILL => put(&mut t.asked_us, n.option, true),
                DO => put(&mut t.asked_them, n.option, true),
                _ => {}
            }
            out.extend_from_slice(&[IAC, n.command, n.option]);
        }
        t
    }

    /// Whether we perform `option` (e.g. `ECHO`: the client expects us to echo its input).
    pub fn we_perform(&self, option: u8) -> bool {
        bit(&self.us, option)
    }

    /// Whether the client performs `option`.
    pub fn they_perform(&self, option: u8) -> bool {
        bit(&self.them, option)
    }

    /// Takes bytes from the client: data bytes go to `data`, answers to `out`, and what
    /// the client told us to `events`.
    pub fn receive(
        &mut self,
        input: &[u8],
        data: &mut Vec<u8>,
        out: &mut Vec<u8>,
        events: &mut Vec<TelnetEvent>,
    ) {
        let mut rest = input;
        while let Some((&b, tail)) = rest.split_first() {
            rest = tail;
            match self.state {
                State::Data => {
                    if b == IAC {
                        self.state = State::Iac;
                    } else {
                        // A run of plain data in one copy.
                        let n = tail.iter().position(|&c| c == IAC).unwrap_or(tail.len());
                        data.push(b);
                        data.extend_from_slice(&tail[..n]);
                        rest = &tail[n..];
                    }
                }
                State::Iac => {
                    self.state = State::Data;
                    match b {
                        IAC => data.push(IAC),
                        DO | DONT | WILL | WONT => self.state = State::Option(b),
                        SB => self.state = State::SbOption,
                        // A stray SE outside a subnegotiation is dropped.
                        SE => {}
                        other => events.push(TelnetEvent::Command(other)),
                    }
                }
                State::Option(command) => {
                    self.state = State::Data;
                    events.push(TelnetEvent::Negotiated(Negotiation { command, option: b }));
                    self.negotiate(command, b, out);
                }
                State::SbOption => {
                    self.sb_option = b;
                    self.sb.clear();
                    self.state = State::Sb;
                }
                State::Sb => {
                    if b == IAC {
                        self.state = State::SbIac;
                    } else {
                        self.sb_push(b);
                    }
                }
                State::SbIac => match b {
                    IAC => {
                        self.sb_push(IAC);
                        self.state = State::Sb;
                    }
                    SE => {
                        self.state = State::Data;
                        events.push(self.subnegotiation());
                    }
                    // IAC and anything else inside SB: a broken peer; end the subnegotiation
                    // there, as most servers do, and read the byte as a command.
                    other => {
                        events.push(self.subnegotiation());
                        self.state = State::Iac;
                        let mut one = Vec::new();
                        self.receive(&[other], data, &mut one, events);
                        out.extend_from_slice(&one);
                    }
                },
            }
        }
    }

    fn sb_push(&mut self, b: u8) {
        if self.sb.len() < MAX_SUBNEGOTIATION {
            self.sb.push(b);
        } else {
            self.sb_truncated += 1;
        }
    }

    /// Answers a negotiation, when it changes an option's state.
    fn negotiate(&mut self, command: u8, option: u8, out: &mut Vec<u8>) {
        let (side, enable) = match command {
            DO => (Side::Us, true),
            DONT => (Side::Us, false),
            WILL => (Side::Them, true),
            _ => (Side::Them, false),
        };
        let (on, asked, willing, yes, no) = match side {
            Side::Us => (&mut self.us, &mut self.asked_us, we_do(option), WILL, WONT),
            Side::Them => (
                &mut self.them,
                &mut self.asked_them,
                they_may(option),
                DO,
                DONT,
            ),
        };
        let was_asked = bit(asked, option);
        put(asked, option, false);
        let is_on = bit(on, option);
        if enable == is_on {
            // No change: no answer (this is what keeps two peers from looping).
            return;
        }
        if enable {
            if willing {
                put(on, option, true);
                if !was_asked {
                    out.extend_from_slice(&[IAC, yes, option]);
                }
                if let (Side::Them, TTYPE | NEW_ENVIRON) = (side, option) {
                    // Ask for the value at once: SEND is 1 in both.
                    out.extend_from_slice(&[IAC, SB, option, 1, IAC, SE]);
                }
            } else if !was_asked {
                out.extend_from_slice(&[IAC, no, option]);
            }
        } else {
            put(on, option, false);
            if !was_asked {
                out.extend_from_slice(&[IAC, no, option]);
            }
        }
    }

    fn subnegotiation(&mut self) -> TelnetEvent {
        let data = std::mem::take(&mut self.sb);
        let option = self.sb_option;
        match (option, data.as_slice()) {
            (NAWS, [w0, w1, h0, h1]) => TelnetEvent::WindowSize {
                width: u16::from_be_bytes([*w0, *w1]),
                height: u16::from_be_bytes([*h0, *h1]),
            },
            // IS = 0.
            (TTYPE, [0, name @ ..]) => {
                TelnetEvent::TerminalType(String::from_utf8_lossy(name).into_owned())
            }
            // IS = 0, INFO = 2.
            (NEW_ENVIRON, [0 | 2, list @ ..]) => TelnetEvent::Environment(environ(list)),
            _ => TelnetEvent::Subnegotiation { option, data },
        }
    }
}

/// The variables of a NEW-ENVIRON list: `VAR`/`USERVAR` name, then `VALUE` value, with
/// `ESC` quoting the next byte.
fn environ(list: &[u8]) -> Vec<(String, String)> {
    const VAR: u8 = 0;
    const VALUE: u8 = 1;
    const ESC: u8 = 2;
    const USERVAR: u8 = 3;
    let mut vars = Vec::new();
    let mut name = Vec::new();
    let mut value = Vec::new();
    let mut in_value = false;
    let mut started = false;
    let mut bytes = list.iter();
    let mut flush = |name: &mut Vec<u8>, value: &mut Vec<u8>| {
        vars.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        ));
        name.clear();
        value.clear();
    };
    while let Some(&b) = bytes.next() {
        match b {
            VAR | USERVAR => {
                if started {
                    flush(&mut name, &mut value);
                }
                started = true;
                in_value = false;
            }
            VALUE => in_value = true,
            other => {
                let b = if other == ESC {
                    match bytes.next() {
                        Some(&n) => n,
                        None => break,
                    }
                } else {
                    other
                };
                if in_value {
                    value.push(b);
                } else {
                    name.push(b);
                }
            }
        }
    }
    if started {
        flush(&mut name, &mut value);
    }
    vars
}

/// Appends `data` to `out` as Telnet data: each 255 doubled.
pub fn escape(data: &[u8], out: &mut Vec<u8>) {
    for part in data.split_inclusive(|&b| b == IAC) {
        out.extend_from_slice(part);
        if part.last() == Some(&IAC) {
            out.push(IAC);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BusyBox telnetd's opening.
    const BUSYBOX: &[Negotiation] = &[
        Negotiation {
            command: DO,
            option: ECHO,
        },
        Negotiation {
            command: DO,
            option: NAWS,
        },
        Negotiation {
            command: WILL,
            option: ECHO,
        },
        Negotiation {
            command: WILL,
            option: SGA,
        },
    ];

    fn feed(t: &mut Telnet, input: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<TelnetEvent>) {
        let (mut data, mut out, mut ev) = (Vec::new(), Vec::new(), Vec::new());
        t.receive(input, &mut data, &mut out, &mut ev);
        (data, out, ev)
    }

    #[test]
    fn opens_with_the_offer() {
        let mut out = Vec::new();
        Telnet::new(BUSYBOX, &mut out);
        assert_eq!(out, [255, 253, 1, 255, 253, 31, 255, 251, 1, 255, 251, 3]);
    }

    #[test]
    fn answers_what_mirai_sends_and_does_not_loop() {
        let mut first = Vec::new();
        let mut t = Telnet::new(BUSYBOX, &mut first);
        // Mirai's scanner: WONT to every DO but NAWS, which it agrees to with its size;
        // DO to our WILLs.
        let reply = [
            255, 252, 1, // WONT ECHO
            255, 251, 31, // WILL NAWS
            255, 250, 31, 0, 80, 0, 24, 255, 240, // SB NAWS 80x24 SE
            255, 253, 1, // DO ECHO
            255, 253, 3, // DO SGA
        ];
        let (data, out, ev) = feed(&mut t, &reply);
        assert!(data.is_empty());
        // Everything answered a request of ours: nothing to say back.
        assert_eq!(out, [] as [u8; 0]);
        assert!(ev.contains(&TelnetEvent::WindowSize {
            width: 80,
            height: 24
        }));
        assert!(t.we_perform(ECHO) && t.we_perform(SGA));
        assert!(t.they_perform(NAWS) && !t.they_perform(ECHO));
        // Asked again: no change, no answer.
        let (_, out, _) = feed(&mut t, &[255, 253, 1, 255, 251, 31]);
        assert!(out.is_empty());
    }

    #[test]
    fn refuses_what_it_does_not_do() {
        let mut t = Telnet::new(&[], &mut Vec::new());
        let (_, out, _) = feed(&mut t, &[255, 253, 34, 255, 251, 34, 255, 253, 34]);
        // DO LINEMODE → WONT; WILL LINEMODE → DONT; a repeated request is refused again
        // (a refusal needs no answer, so this cannot loop).
        assert_eq!(out, [255, 252, 34, 255, 254, 34, 255, 252, 34]);
        let (_, out, _) = feed(&mut t, &[255, 251, 24]);
        // WILL TTYPE → DO TTYPE, and SEND at once.
        assert_eq!(out, [255, 253, 24, 255, 250, 24, 1, 255, 240]);
    }

    #[test]
    fn data_commands_and_subnegotiations_split_anywhere() {
        let input: Vec<u8> = [
            &b"ro"[..],
            &[255, 255],
            b"ot\r\n",
            &[255, 241],
            &[255, 250, 24, 0],
            b"xterm",
            &[255, 240],
            &[255, 250, 39, 0, 0],
            b"USER",
            &[1],
            b"root",
            &[3],
            b"X",
            &[1, 2, 1, 255, 255, 255, 240],
            b"ok",
        ]
        .concat();
        let whole = feed(&mut Telnet::new(&[], &mut Vec::new()), &input);
        assert_eq!(whole.0, b"ro\xffot\r\nok");
        assert_eq!(
            whole.2,
            [
                TelnetEvent::Command(NOP),
                TelnetEvent::TerminalType("xterm".into()),
                TelnetEvent::Environment(vec![
                    ("USER".into(), "root".into()),
                    ("X".into(), "\u{1}\u{fffd}".into()),
                ]),
            ]
        );
        // Every split of the input gives the same.
        for cut in 0..input.len() {
            let mut t = Telnet::new(&[], &mut Vec::new());
            let (mut d, mut o, mut e) = feed(&mut t, &input[..cut]);
            let more = feed(&mut t, &input[cut..]);
            d.extend(more.0);
            o.extend(more.1);
            e.extend(more.2);
            assert_eq!((d, o, e), whole, "split at {cut}");
        }
    }

    #[test]
    fn a_long_subnegotiation_is_bounded() {
        let mut t = Telnet::new(&[], &mut Vec::new());
        let mut input = vec![255, 250, 99];
        input.extend(std::iter::repeat_n(7u8, 2000));
        input.extend([255, 240, b'a']);
        let (data, _, ev) = feed(&mut t, &input);
        assert_eq!(data, b"a");
        let [TelnetEvent::Subnegotiation { option: 99, data }] = &ev[..] else {
            panic!("{ev:?}")
        };
        assert_eq!(data.len(), MAX_SUBNEGOTIATION);
        assert_eq!(t.sb_truncated, 2000 - MAX_SUBNEGOTIATION as u64);
    }

    #[test]
    fn escapes_data_bytes_255() {
        let mut out = Vec::new();
        escape(b"a\xffb\xff", &mut out);
        assert_eq!(out, b"a\xff\xffb\xff\xff");
    }
}
