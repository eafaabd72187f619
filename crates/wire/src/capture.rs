//! Packet-capture files: classic pcap and pcapng, read from any [`std::io::Read`].
//!
//! [`CaptureReader`] detects the format from the first four bytes and then
//! yields one [`Frame`] at a time, borrowing the packet bytes from a buffer it
//! reuses, so reading allocates only when a record is larger than every record
//! before it. Nothing here opens files: the caller hands in a reader (wrap a
//! `File` in a `BufReader`; the reader issues many small reads).
//!
//! Supported:
//!
//! * classic pcap in both byte orders, with microsecond (`0xa1b2c3d4`) or
//!   nanosecond (`0xa1b23c4d`) timestamps, and the "modified" pcap variant
//!   (`0xa1b2cd34`) whose records carry 8 extra bytes;
//! * pcapng: Section Header Blocks in either byte order (several sections per
//!   file), Interface Description Blocks with `if_tsresol` and `if_tsoffset`,
//!   Enhanced, Simple and Obsolete Packet Blocks. Every other block is skipped
//!   by its length.
//!
//! Everything in a capture is treated as hostile: lengths are checked before
//! use, a record may hold at most [`MAX_RECORD_LEN`] bytes of packet data, and
//! a malformed file yields an error, never a panic.
//!
//! [`PcapWriter`] writes classic microsecond pcap.

use std::io::{self, Read, Write};

/// Largest amount of packet data one record may carry (256 KiB, tcpdump's
/// largest snaplen). Longer records are reported as [`CaptureError::TooLarge`]
/// instead of being buffered.
pub const MAX_RECORD_LEN: u32 = 256 * 1024;

/// Largest pcapng block that is buffered: a full [`MAX_RECORD_LEN`] packet plus
/// room for its block header and options.
const MAX_BLOCK_LEN: u32 = MAX_RECORD_LEN + 16 * 1024;

/// Most interfaces one pcapng section may describe; bounds the memory an
/// endless run of Interface Description Blocks can claim.
const MAX_INTERFACES: usize = 65_536;

/// Link-layer header type of a capture (the `LINKTYPE_*` numbers of
/// tcpdump.org), telling how to parse the start of each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1): Ethernet II / IEEE 802.3.
    Ethernet,
    /// `LINKTYPE_RAW` (101; also 12 and 14 as written by some BSDs): a bare
    /// IPv4 or IPv6 packet, told apart by the version nibble.
    RawIp,
    /// `LINKTYPE_IPV4` (228): a bare IPv4 packet.
    Ipv4,
    /// `LINKTYPE_IPV6` (229): a bare IPv6 packet.
    Ipv6,
    /// `LINKTYPE_LINUX_SLL` (113): Linux "cooked" capture, version 1
    /// (`tcpdump -i any`).
    LinuxSll,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux "cooked" capture, version 2.
    LinuxSll2,
    /// `LINKTYPE_NULL` (0): BSD loopback, a 4-byte address family in the
    /// capturing host's byte order.
    Null,
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, a 4-byte address family in
    /// network byte order.
    Loop,
    /// Any other link type, by number.
    Other(u32),
}

impl LinkType {
    /// Every link type with a named variant (what tests and fuzzers walk through).
    pub const KNOWN: [LinkType; 8] = [
        LinkType::Ethernet,
        LinkType::RawIp,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::Loop,
    ];

    /// Maps a `LINKTYPE_*` number to a link type.
    pub const fn from_u32(value: u32) -> LinkType {
        match value {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // DLT_RAW is 12 on most BSDs and 14 on OpenBSD; old files carry
            // those values instead of LINKTYPE_RAW.
            12 | 14 | 101 => LinkType::RawIp,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            other => LinkType::Other(other),
        }
    }

    /// The `LINKTYPE_*` number written to a capture file for this link type.
    pub const fn to_u32(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::RawIp => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
            LinkType::Other(other) => other,
        }
    }
}

/// One captured packet, borrowed from the reader's buffer until the next call
/// to [`CaptureReader::next_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Capture time in UTC microseconds since the Unix epoch (finer
    /// resolutions are truncated).
    pub ts_us: i64,
    /// Link-layer type of `data`.
    pub link: LinkType,
    /// Length of the packet on the wire; larger than `data.len()` when the
    /// snaplen cut the packet.
    pub orig_len: u32,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
}

/// Which kind of capture file a [`CaptureReader`] is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap format.
    Pcap,
    /// pcapng (next generation) format.
    PcapNg,
}

/// Why a capture could not be read (further).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The underlying reader failed.
    #[error("I/O error while reading the capture: {0}")]
    Io(#[from] io::Error),
    /// The input starts with neither a pcap nor a pcapng magic number.
    #[error("not a pcap or pcapng capture (it starts with {magic:02x?}){hint}")]
    NotACapture {
        /// The first four bytes of the input (zero-padded when shorter).
        magic: [u8; 4],
        /// Advice on what the input may be instead; empty when unknown.
        hint: &'static str,
    },
    /// The input ends inside a record: a capture cut short or still being
    /// written. Every complete frame before it has been returned.
    #[error("the capture is truncated: the record at byte {offset} is incomplete")]
    Truncated {
        /// Byte offset of the start of the incomplete record or header.
        offset: u64,
    },
    /// A header or record contradicts the format.
    #[error("corrupt capture at byte {offset}: {what}")]
    Corrupt {
        /// Byte offset of the start of the offending record or header.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A record claims more bytes than this reader buffers.
    #[error(
        "record at byte {offset} claims {len} bytes, over the limit of 256 KiB per record; \
         the capture is corrupt"
    )]
    TooLarge {
        /// Byte offset of the start of the record.
        offset: u64,
        /// The length the record claims.
        len: u32,
    },
}

/// Byte order of the file being read: `true` for big endian.
#[derive(Debug, Clone, Copy)]
struct Endian(bool);

impl Endian {
    fn u16(self, b: [u8; 2]) -> u16 {
        if self.0 {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    fn u32(self, b: [u8; 4]) -> u32 {
        if self.0 {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn u16_at(self, buf: &[u8], at: usize) -> u16 {
        self.u16(array_at(buf, at))
    }

    fn u32_at(self, buf: &[u8], at: usize) -> u32 {
        self.u32(array_at(buf, at))
    }

    fn i64_at(self, buf: &[u8], at: usize) -> i64 {
        let b = array_at(buf, at);
        if self.0 {
            i64::from_be_bytes(b)
        } else {
            i64::from_le_bytes(b)
        }
    }
}

/// `N` bytes of `buf` at `at`. Callers check lengths first; zeroes come back
/// instead of a panic should one ever not.
fn array_at<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = at.checked_add(N).and_then(|end| buf.get(at..end)) {
        out.copy_from_slice(src);
    }
    out
}

/// Reads until `buf` is full or the input ends; returns the count read.
fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match reader.read(rest) {
            Ok(0) => break,
            // min(): a misbehaving reader must not push us past the buffer.
            Ok(n) => filled += n.min(rest.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Timestamp resolution of one pcapng interface (`if_tsresol`).
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    /// Raw `if_tsresol`: bit 7 clear, units of 10^-n s; set, 2^-n s.
    tsresol: u8,
    /// `if_tsoffset`, seconds added to every timestamp.
    tsoffset_s: i64,
    /// 0 means no limit.
    snaplen: u32,
}

/// Converts a pcapng timestamp in interface units to Unix microseconds,
/// saturating instead of overflowing on absurd values.
fn ng_ts_to_us(ts: u64, tsresol: u8, tsoffset_s: i64) -> i64 {
    let n = u32::from(tsresol & 0x7f);
    let us: i128 = if tsresol & 0x80 == 0 {
        if n <= 6 {
            i128::from(ts) * 10i128.pow(6 - n)
        } else if n - 6 <= 19 {
            i128::from(ts) / 10i128.pow(n - 6)
        } else {
            // 10^20 exceeds any u64 timestamp.
            0
        }
    } else {
        // ts * 10^6 < 2^84 and n < 128, so this neither overflows nor panics.
        ((u128::from(ts) * 1_000_000) >> n) as i128
    };
    let total = us + i128::from(tsoffset_s) * 1_000_000;
    total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Per-format state.
#[derive(Debug)]
enum State {
    Pcap {
        endian: Endian,
        nanos: bool,
        /// Kuznetsov's "modified" pcap: 8 more bytes per record header.
        modified: bool,
        link: LinkType,
    },
    PcapNg {
        endian: Endian,
        interfaces: Vec<Interface>,
    },
}

/// A frame found in a record, located in `buf`, before it is borrowed.
struct Found {
    ts_us: i64,
    link: LinkType,
    orig_len: u32,
    start: usize,
    len: usize,
}

// pcapng block types.
const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const OPB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;

/// Streaming reader of pcap and pcapng captures.
///
/// ```
/// use honeyscope_wire::capture::{CaptureReader, LinkType, PcapWriter};
///
/// let mut w = PcapWriter::new(Vec::new(), LinkType::RawIp).unwrap();
/// w.write_frame(1_700_000_000_123_456, &[0x45, 0, 0, 20]).unwrap();
/// let file = w.into_inner();
///
/// let mut r = CaptureReader::new(&file[..]).unwrap();
/// let frame = r.next_frame().unwrap().unwrap();
/// assert_eq!(frame.ts_us, 1_700_000_000_123_456);
/// assert_eq!(frame.data, &[0x45, 0, 0, 20]);
/// assert!(r.next_frame().unwrap().is_none());
/// ```
#[derive(Debug)]
pub struct CaptureReader<R: Read> {
    reader: R,
    offset: u64,
    buf: Vec<u8>,
    state: State,
    /// Set after an error or the end: there is nothing more to read.
    done: bool,
    /// Simple Packet Blocks carry no time; they get the last one seen.
    last_ts_us: i64,
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header (pcap) or first Section Header Block (pcapng).
    ///
    /// Fails with [`CaptureError::NotACapture`] when the input starts with
    /// neither format's magic number.
    pub fn new(mut reader: R) -> Result<Self, CaptureError> {
        let mut magic = [0u8; 4];
        let n = read_full(&mut reader, &mut magic)?;
        let hint = match magic {
            _ if n == 0 => ": the input is empty",
            _ if n < 4 => ": the input is shorter than any capture header",
            [0x1f, 0x8b, ..] => ": it looks gzip-compressed; decompress it first",
            [0x28, 0xb5, 0x2f, 0xfd] => ": it looks zstd-compressed; decompress it first",
            [0xfd, b'7', b'z', b'X'] => ": it looks xz-compressed; decompress it first",
            [b'B', b'Z', b'h', _] => ": it looks bzip2-compressed; decompress it first",
            _ => "",
        };
        let mut this = CaptureReader {
            reader,
            offset: n as u64,
            buf: Vec::new(),
            state: State::Pcap {
                endian: Endian(false),
                nanos: false,
                modified: false,
                link: LinkType::Ethernet,
            },
            done: false,
            last_ts_us: 0,
        };
        if n < 4 {
            return Err(CaptureError::NotACapture { magic, hint });
        }
        let (endian, nanos, modified) = match u32::from_le_bytes(magic) {
            SHB => {
                this.state = State::PcapNg {
                    endian: Endian(false),
                    interfaces: Vec::new(),
                };
                let mut len = [0u8; 4];
                if read_full(&mut this.reader, &mut len)? < 4 {
                    return Err(CaptureError::Truncated { offset: 0 });
                }
                this.offset += 4;
                this.read_shb(0, len)?;
                return Ok(this);
            }
            0xa1b2_c3d4 => (Endian(false), false, false),
            0xd4c3_b2a1 => (Endian(true), false, false),
            0xa1b2_3c4d => (Endian(false), true, false),
            0x4d3c_b2a1 => (Endian(true), true, false),
            0xa1b2_cd34 => (Endian(false), false, true),
            0x34cd_b2a1 => (Endian(true), false, true),
            _ => return Err(CaptureError::NotACapture { magic, hint }),
        };
        // Rest of the 24-byte global header.
        let mut hdr = [0u8; 20];
        if read_full(&mut this.reader, &mut hdr)? < hdr.len() {
            return Err(CaptureError::Truncated { offset: 0 });
        }
        this.offset += hdr.len() as u64;
        let major = endian.u16_at(&hdr, 0);
        if major != 2 {
            return Err(CaptureError::Corrupt {
                offset: 4,
                what: "unsupported pcap version (only 2.x exists)",
            });
        }
        // The top 6 bits carry FCS information, not the link type.
        let link = LinkType::from_u32(endian.u32_at(&hdr, 16) & 0x03ff_ffff);
        this.state = State::Pcap {
            endian,
            nanos,
            modified,
            link,
        };
        Ok(this)
    }

    /// Which format the input is in.
    pub fn format(&self) -> CaptureFormat {
        match self.state {
            State::Pcap { .. } => CaptureFormat::Pcap,
            State::PcapNg { .. } => CaptureFormat::PcapNg,
        }
    }

    /// Bytes consumed from the input so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next frame, or `Ok(None)` at a clean end of the input.
    ///
    /// After an error the reader is finished and further calls return
    /// `Ok(None)`: a byte stream cannot be resynchronised safely.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        let found = match self.state {
            State::Pcap { .. } => self.next_pcap(),
            State::PcapNg { .. } => self.next_pcapng(),
        };
        match found {
            Ok(Some(f)) => {
                self.last_ts_us = f.ts_us;
                let end = f.start.saturating_add(f.len);
                let data = self.buf.get(f.start..end).unwrap_or_default();
                Ok(Some(Frame {
                    ts_us: f.ts_us,
                    link: f.link,
                    orig_len: f.orig_len,
                    data,
                }))
            }
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// Reads exactly `len` bytes into the reused buffer; `Truncated` at
    /// `start` if the input ends first.
    fn fill(&mut self, len: usize, start: u64) -> Result<(), CaptureError> {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        let dst = self.buf.get_mut(..len).unwrap_or_default();
        let n = read_full(&mut self.reader, dst)?;
        self.offset += n as u64;
        if n < len {
            return Err(CaptureError::Truncated { offset: start });
        }
        Ok(())
    }

    /// Reads the next classic pcap record.
    fn next_pcap(&mut self) -> Result<Option<Found>, CaptureError> {
        let State::Pcap {
            endian,
            nanos,
            modified,
            link,
        } = self.state
        else {
            return Ok(None);
        };
        let start = self.offset;
        let mut hdr = [0u8; 24];
        let hdr_len = if modified { 24 } else { 16 };
        let n = read_full(&mut self.reader, &mut hdr[..hdr_len])?;
        self.offset += n as u64;
        if n == 0 {
            return Ok(None);
        }
        if n < hdr_len {
            return Err(CaptureError::Truncated { offset: start });
        }
        let ts_sec = endian.u32_at(&hdr, 0);
        let ts_frac = endian.u32_at(&hdr, 4);
        let incl_len = endian.u32_at(&hdr, 8);
        let orig_len = endian.u32_at(&hdr, 12);
        if incl_len > MAX_RECORD_LEN {
            return Err(CaptureError::TooLarge {
                offset: start,
                len: incl_len,
            });
        }
        self.fill(incl_len as usize, start)?;
        let frac_us = if nanos { ts_frac / 1000 } else { ts_frac };
        // Cannot overflow: u32 seconds * 10^6 + u32 < 2^53.
        let ts_us = i64::from(ts_sec) * 1_000_000 + i64::from(frac_us);
        Ok(Some(Found {
            ts_us,
            link,
            orig_len,
            start: 0,
            len: incl_len as usize,
        }))
    }

    /// Reads pcapng blocks until one holds a packet.
    fn next_pcapng(&mut self) -> Result<Option<Found>, CaptureError> {
        loop {
            let start = self.offset;
            let mut head = [0u8; 8];
            let n = read_full(&mut self.reader, &mut head)?;
            self.offset += n as u64;
            if n == 0 {
                return Ok(None);
            }
            if n < head.len() {
                return Err(CaptureError::Truncated { offset: start });
            }
            // The SHB type reads the same in both byte orders, and a new
            // section may switch the byte order, so check it first.
            if array_at::<4>(&head, 0) == SHB.to_le_bytes() {
                self.read_shb(start, array_at(&head, 4))?;
                continue;
            }
            let State::PcapNg { endian, .. } = self.state else {
                return Ok(None);
            };
            let btype = endian.u32_at(&head, 0);
            let total = endian.u32_at(&head, 4);
            if total < 12 || total % 4 != 0 {
                return Err(CaptureError::Corrupt {
                    offset: start,
                    what: "block length is below 12 or not a multiple of 4",
                });
            }
            let body_len = (total - 12) as usize;
            if !matches!(btype, IDB | OPB | SPB | EPB) {
                // Skip without buffering, however long: no memory is at stake.
                let want = (total - 8) as u64;
                let skipped = io::copy(&mut (&mut self.reader).take(want), &mut io::sink())?;
                self.offset += skipped;
                if skipped < want {
                    return Err(CaptureError::Truncated { offset: start });
                }
                continue;
            }
            if total > MAX_BLOCK_LEN {
                return Err(CaptureError::TooLarge {
                    offset: start,
                    len: total,
                });
            }
            // Body plus the trailing copy of the length.
            self.fill(body_len + 4, start)?;
            if endian.u32_at(&self.buf, body_len) != total {
                return Err(CaptureError::Corrupt {
                    offset: start,
                    what: "block's trailing length differs from its leading length",
                });
            }
            let found = match btype {
                IDB => {
                    self.read_idb(start, body_len)?;
                    continue;
                }
                EPB => self.packet_block(start, body_len, false)?,
                OPB => self.packet_block(start, body_len, true)?,
                _ => self.simple_packet_block(start, body_len)?,
            };
            return Ok(Some(found));
        }
    }

    /// Reads a Section Header Block whose type field has been consumed and
    /// whose length field is `len_raw`; starts a new section.
    fn read_shb(&mut self, start: u64, len_raw: [u8; 4]) -> Result<(), CaptureError> {
        let mut bom = [0u8; 4];
        let n = read_full(&mut self.reader, &mut bom)?;
        self.offset += n as u64;
        if n < bom.len() {
            return Err(CaptureError::Truncated { offset: start });
        }
        let endian = match bom {
            [0x1a, 0x2b, 0x3c, 0x4d] => Endian(true),
            [0x4d, 0x3c, 0x2b, 0x1a] => Endian(false),
            _ => {
                return Err(CaptureError::Corrupt {
                    offset: start,
                    what: "section header has no valid byte-order magic",
                })
            }
        };
        let total = endian.u32(len_raw);
        // type, length, BOM, version, section length, trailing length
        if total < 28 || total % 4 != 0 {
            return Err(CaptureError::Corrupt {
                offset: start,
                what: "section header length is below 28 or not a multiple of 4",
            });
        }
        if total > MAX_BLOCK_LEN {
            return Err(CaptureError::TooLarge {
                offset: start,
                len: total,
            });
        }
        // What is left after type, length and BOM.
        let rest = (total - 12) as usize;
        self.fill(rest, start)?;
        if endian.u32_at(&self.buf, rest - 4) != total {
            return Err(CaptureError::Corrupt {
                offset: start,
                what: "block's trailing length differs from its leading length",
            });
        }
        if endian.u16_at(&self.buf, 0) != 1 {
            return Err(CaptureError::Corrupt {
                offset: start,
                what: "unsupported pcapng major version (only 1 is defined)",
            });
        }
        // Interface ids are per section.
        self.state = State::PcapNg {
            endian,
            interfaces: Vec::new(),
        };
        Ok(())
    }

    /// Records an Interface Description Block held in `buf[..body_len]`.
    fn read_idb(&mut self, start: u64, body_len: usize) -> Result<(), CaptureError> {
        let corrupt = |what| CaptureError::Corrupt {
            offset: start,
            what,
        };
        let State::PcapNg { endian, interfaces } = &mut self.state else {
            return Ok(());
        };
        let endian = *endian;
        if body_len < 8 {
            return Err(corrupt("interface description block is too short"));
        }
        if interfaces.len() >= MAX_INTERFACES {
            return Err(corrupt("more than 65536 interfaces in one section"));
        }
        let body = self.buf.get(..body_len).unwrap_or_default();
        let mut iface = Interface {
            link: LinkType::from_u32(u32::from(endian.u16_at(body, 0))),
            tsresol: 6,
            tsoffset_s: 0,
            snaplen: endian.u32_at(body, 4),
        };
        let mut opts = body.get(8..).unwrap_or_default();
        while opts.len() >= 4 {
            let code = endian.u16_at(opts, 0);
            let len = usize::from(endian.u16_at(opts, 2));
            if code == 0 {
                break; // opt_endofopt
            }
            let value = opts
                .get(4..4 + len)
                .ok_or(corrupt("interface option runs past the end of its block"))?;
            match code {
                9 if len == 1 => iface.tsresol = value.first().copied().unwrap_or(6),
                14 if len == 8 => iface.tsoffset_s = endian.i64_at(value, 0),
                _ => {}
            }
            // Values are padded to 4 bytes; the padding may be cut at the end.
            let next = 4 + len.next_multiple_of(4);
            opts = opts.get(next..).unwrap_or_default();
        }
        interfaces.push(iface);
        Ok(())
    }

    /// Locates the packet of an Enhanced (or Obsolete) Packet Block held in
    /// `buf[..body_len]`.
    fn packet_block(
        &self,
        start: u64,
        body_len: usize,
        obsolete: bool,
    ) -> Result<Found, CaptureError> {
        let corrupt = |what| CaptureError::Corrupt {
            offset: start,
            what,
        };
        let State::PcapNg { endian, interfaces } = &self.state else {
            return Err(corrupt("packet block outside a section"));
        };
        let e = *endian;
        let body = self.buf.get(..body_len).unwrap_or_default();
        if body.len() < 20 {
            return Err(corrupt("packet block is too short"));
        }
        let if_id = if obsolete {
            u32::from(e.u16_at(body, 0))
        } else {
            e.u32_at(body, 0)
        };
        let iface = usize::try_from(if_id)
            .ok()
            .and_then(|i| interfaces.get(i))
            .ok_or(corrupt(
                "packet refers to an interface that was not described",
            ))?;
        let ts = (u64::from(e.u32_at(body, 4)) << 32) | u64::from(e.u32_at(body, 8));
        let cap_len = e.u32_at(body, 12);
        let orig_len = e.u32_at(body, 16);
        if cap_len > MAX_RECORD_LEN {
            return Err(CaptureError::TooLarge {
                offset: start,
                len: cap_len,
            });
        }
        if cap_len as usize > body.len() - 20 {
            return Err(corrupt("packet's captured length exceeds its block"));
        }
        Ok(Found {
            ts_us: ng_ts_to_us(ts, iface.tsresol, iface.tsoffset_s),
            link: iface.link,
            orig_len,
            start: 20,
            len: cap_len as usize,
        })
    }

    /// Locates the packet of a Simple Packet Block held in `buf[..body_len]`.
    fn simple_packet_block(&self, start: u64, body_len: usize) -> Result<Found, CaptureError> {
        let corrupt = |what| CaptureError::Corrupt {
            offset: start,
            what,
        };
        let State::PcapNg { endian, interfaces } = &self.state else {
            return Err(corrupt("packet block outside a section"));
        };
        let iface = interfaces.first().ok_or(corrupt(
            "simple packet block before any interface description",
        ))?;
        if body_len < 4 {
            return Err(corrupt("simple packet block is too short"));
        }
        let orig_len = endian.u32_at(&self.buf, 0);
        // The block holds no captured length: it is the original length cut
        // by the snaplen, and the data is padded to the block's end.
        let mut cap_len = (body_len - 4).min(orig_len as usize);
        if iface.snaplen != 0 {
            cap_len = cap_len.min(iface.snaplen as usize);
        }
        Ok(Found {
            ts_us: self.last_ts_us,
            link: iface.link,
            orig_len,
            start: 4,
            len: cap_len,
        })
    }
}

/// Writes classic pcap files with microsecond timestamps, little endian.
///
/// Wrap files in a `BufWriter`: every frame is two writes.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    writer: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte file header for frames of link type `link`, with a
    /// snaplen of [`MAX_RECORD_LEN`].
    pub fn new(mut writer: W, link: LinkType) -> io::Result<Self> {
        let mut hdr = [0u8; 24];
        hdr[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        hdr[4..6].copy_from_slice(&2u16.to_le_bytes());
        hdr[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0.
        hdr[16..20].copy_from_slice(&MAX_RECORD_LEN.to_le_bytes());
        hdr[20..24].copy_from_slice(&link.to_u32().to_le_bytes());
        writer.write_all(&hdr)?;
        Ok(PcapWriter { writer })
    }

    /// Writes one complete frame captured at `ts_us` (UTC microseconds since
    /// the Unix epoch).
    pub fn write_frame(&mut self, ts_us: i64, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.write_frame_with_orig_len(ts_us, data, len)
    }

    /// Writes one frame whose original length on the wire was `orig_len`
    /// (larger than `data.len()` for a frame cut by a snaplen).
    ///
    /// Fails with `InvalidInput` for a time before 1970 or after 2106 (pcap
    /// has unsigned 32-bit seconds) and for more than [`MAX_RECORD_LEN`]
    /// bytes of data, which [`CaptureReader`] would refuse.
    pub fn write_frame_with_orig_len(
        &mut self,
        ts_us: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let invalid = |msg| io::Error::new(io::ErrorKind::InvalidInput, msg);
        let secs = u32::try_from(ts_us.div_euclid(1_000_000))
            .map_err(|_| invalid("timestamp outside pcap's range (1970 to 2106)"))?;
        let micros = ts_us.rem_euclid(1_000_000) as u32;
        let incl = u32::try_from(data.len())
            .ok()
            .filter(|&n| n <= MAX_RECORD_LEN)
            .ok_or_else(|| invalid("frame longer than 256 KiB"))?;
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&secs.to_le_bytes());
        rec[4..8].copy_from_slice(&micros.to_le_bytes());
        rec[8..12].copy_from_slice(&incl.to_le_bytes());
        rec[12..16].copy_from_slice(&orig_len.max(incl).to_le_bytes());
        self.writer.write_all(&rec)?;
        self.writer.write_all(data)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Returns the underlying writer.
    pub fn into_inner(self) -> W {
        self.writer
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// 2023-11-14T22:13:20.123456Z
    const TS_US: i64 = 1_700_000_000_123_456;

    /// A frame copied out of the reader: time, link, orig_len, data.
    type OwnedFrame = (i64, LinkType, u32, Vec<u8>);

    /// Drains `r`, returning the frames and how the reading ended.
    fn read_all<R: Read>(mut r: CaptureReader<R>) -> (Vec<OwnedFrame>, Option<CaptureError>) {
        let mut frames = Vec::new();
        loop {
            match r.next_frame() {
                Ok(Some(f)) => frames.push((f.ts_us, f.link, f.orig_len, f.data.to_vec())),
                Ok(None) => return (frames, None),
                Err(e) => {
                    // A failed reader stays finished.
                    assert!(matches!(r.next_frame(), Ok(None)));
                    return (frames, Some(e));
                }
            }
        }
    }

    fn read_ok(bytes: &[u8]) -> Vec<OwnedFrame> {
        let (frames, err) = read_all(CaptureReader::new(bytes).expect("header"));
        assert!(err.is_none(), "unexpected error {err:?}");
        frames
    }

    /// Hands out one byte per read call, with an `Interrupted` in between.
    struct Trickle<'a>(&'a [u8], bool);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.1 = !self.1;
            if self.1 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(dst)) => {
                    *dst = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn link_type_numbers() {
        for n in [0, 1, 101, 108, 113, 228, 229, 276, 147] {
            assert_eq!(LinkType::from_u32(n).to_u32(), n);
        }
        assert_eq!(LinkType::from_u32(12), LinkType::RawIp);
        assert_eq!(LinkType::from_u32(14), LinkType::RawIp);
        assert_eq!(LinkType::from_u32(147), LinkType::Other(147));
    }

    /// Little-endian microsecond pcap, Ethernet, two records, the second cut
    /// by the snaplen (incl 4, orig 60).
    static PCAP_LE_US: [u8; 24 + 16 + 6 + 16 + 4] = [
        0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, // magic, 2.4
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // thiszone, sigfigs
        0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, // snaplen, Ethernet
        0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00, // 1700000000 s, 123456 us
        0x06, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, // incl 6, orig 6
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, //
        0x01, 0xf1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00, // 1700000001 s, 0 us
        0x04, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, // incl 4, orig 60
        0xaa, 0xbb, 0xcc, 0xdd,
    ];

    #[test]
    fn pcap_little_endian_microseconds() {
        let r = CaptureReader::new(&PCAP_LE_US[..]).unwrap();
        assert_eq!(r.format(), CaptureFormat::Pcap);
        assert_eq!(r.offset(), 24);
        assert_eq!(
            read_ok(&PCAP_LE_US),
            vec![
                (TS_US, LinkType::Ethernet, 6, vec![1, 2, 3, 4, 5, 6]),
                (
                    1_700_000_001_000_000,
                    LinkType::Ethernet,
                    60,
                    vec![0xaa, 0xbb, 0xcc, 0xdd]
                ),
            ]
        );
    }

    /// Big-endian microsecond pcap, raw IP (101), one record.
    static PCAP_BE_US: [u8; 24 + 16 + 4] = [
        0xa1, 0xb2, 0xc3, 0xd4, 0x00, 0x02, 0x00, 0x04, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x65, // snaplen, LINKTYPE_RAW
        0x65, 0x53, 0xf1, 0x00, 0x00, 0x01, 0xe2, 0x40, //
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, //
        0x45, 0x00, 0x00, 0x14,
    ];

    #[test]
    fn pcap_big_endian_microseconds() {
        assert_eq!(
            read_ok(&PCAP_BE_US),
            vec![(TS_US, LinkType::RawIp, 4, vec![0x45, 0, 0, 0x14])]
        );
    }

    /// Nanosecond pcap in both byte orders, Linux SLL (113): 123456789 ns.
    static PCAP_LE_NS: [u8; 24 + 16 + 2] = [
        0x4d, 0x3c, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        0x00, 0x00, 0x04, 0x00, 0x71, 0x00, 0x00, 0x00, //
        0x00, 0xf1, 0x53, 0x65, 0x15, 0xcd, 0x5b, 0x07, //
        0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, //
        0xbe, 0xef,
    ];
    static PCAP_BE_NS: [u8; 24 + 16 + 2] = [
        0xa1, 0xb2, 0x3c, 0x4d, 0x00, 0x02, 0x00, 0x04, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x71, //
        0x65, 0x53, 0xf1, 0x00, 0x07, 0x5b, 0xcd, 0x15, //
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, //
        0xbe, 0xef,
    ];

    #[test]
    fn pcap_nanoseconds_both_byte_orders() {
        let want = vec![(TS_US, LinkType::LinuxSll, 2, vec![0xbe, 0xef])];
        assert_eq!(read_ok(&PCAP_LE_NS), want);
        assert_eq!(read_ok(&PCAP_BE_NS), want);
    }

    /// Kuznetsov's modified pcap: 8 more bytes (ifindex, protocol, packet
    /// type, padding) per record header. Link type carries FCS bits (bit 28
    /// set, FCS length 2) that are not part of the link type.
    static PCAP_MODIFIED: [u8; 24 + 24 + 1] = [
        0x34, 0xcd, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x50, // Ethernet | F | FCS 2
        0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00, //
        0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, //
        0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, // ifindex, protocol, ...
        0x99,
    ];

    #[test]
    fn pcap_modified_format() {
        assert_eq!(
            read_ok(&PCAP_MODIFIED),
            vec![(TS_US, LinkType::Ethernet, 1, vec![0x99])]
        );
    }

    /// pcapng, two sections.
    ///
    /// Section 1 (little endian): interface 0 Ethernet (default 10^-6 s),
    /// interface 1 raw IP with `if_tsresol` 10^-9, interface 2 IPv4 with
    /// `if_tsresol` 2^-10 and `if_tsoffset` 100 s; an EPB on each, a custom
    /// block to skip, an SPB and an OPB.
    ///
    /// Section 2 (big endian): interface 0 Linux SLL, one EPB.
    static PCAPNG: [u8; 28 + 20 + 32 + 40 + 40 + 40 + 40 + 32 + 16 + 20 + 36 + 28 + 20 + 36] = [
        // SHB, LE, 28 bytes, version 1.0, section length -1
        0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0x00, 0x00, 0x00, //
        0x4d, 0x3c, 0x2b, 0x1a, 0x01, 0x00, 0x00, 0x00, //
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //
        0x1c, 0x00, 0x00, 0x00, //
        // IDB 0: Ethernet, snaplen 262144, no options
        0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, //
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, //
        0x14, 0x00, 0x00, 0x00, //
        // IDB 1: raw IP, if_tsresol = 9, opt_endofopt
        0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, //
        0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, //
        0x09, 0x00, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, //
        // IDB 2: IPv4 (228), if_tsresol = 0x8a (2^-10), if_tsoffset = 100
        0x01, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, //
        0xe4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, //
        0x09, 0x00, 0x01, 0x00, 0x8a, 0x00, 0x00, 0x00, //
        0x0e, 0x00, 0x08, 0x00, 0x64, 0x00, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, //
        // EPB on 0: ts 0x00060a24_18202240 us, cap 5, orig 60
        0x06, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x24, 0x0a, 0x06, 0x00, //
        0x40, 0x22, 0x20, 0x18, 0x05, 0x00, 0x00, 0x00, //
        0x3c, 0x00, 0x00, 0x00, 0x11, 0x12, 0x13, 0x14, //
        0x15, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, //
        // EPB on 1: ts 1700000000123456789 ns, cap 4, orig 4
        0x06, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, //
        0x01, 0x00, 0x00, 0x00, 0xfe, 0x9c, 0x97, 0x17, //
        0x15, 0xcd, 0x85, 0x3d, 0x04, 0x00, 0x00, 0x00, //
        0x04, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x04, //
        0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, // options: endofopt
        // EPB on 2: ts 1024 * 1700000000 + 512 units of 2^-10 s, cap 4
        0x06, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, //
        0x02, 0x00, 0x00, 0x00, 0x95, 0x01, 0x00, 0x00, //
        0x00, 0x02, 0xc4, 0x4f, 0x04, 0x00, 0x00, 0x00, //
        0x04, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x04, //
        0x01, 0x00, 0x02, 0x00, 0x28, 0x00, 0x00, 0x00, // opt_comment, cut padding
        // custom block 0x00000bad, skipped
        0xad, 0x0b, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, //
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, //
        0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, //
        0x11, 0x12, 0x13, 0x14, 0x20, 0x00, 0x00, 0x00, //
        // Name Resolution Block (4), empty, skipped
        0x04, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, //
        // SPB: orig 3, data padded to 4
        0x03, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, //
        0x03, 0x00, 0x00, 0x00, 0x21, 0x22, 0x23, 0x00, //
        0x14, 0x00, 0x00, 0x00, //
        // OPB on 0: same time as the first EPB, cap 4, orig 4
        0x02, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x24, 0x0a, 0x06, 0x00, //
        0x40, 0x22, 0x20, 0x18, 0x04, 0x00, 0x00, 0x00, //
        0x04, 0x00, 0x00, 0x00, 0x31, 0x32, 0x33, 0x34, //
        0x24, 0x00, 0x00, 0x00, //
        // SHB, BE, 28 bytes
        0x0a, 0x0d, 0x0d, 0x0a, 0x00, 0x00, 0x00, 0x1c, //
        0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x01, 0x00, 0x00, //
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //
        0x00, 0x00, 0x00, 0x1c, //
        // IDB 0: Linux SLL
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, //
        0x00, 0x71, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x14, //
        // EPB on 0: ts 2000000000000000 us = 0x00071afd_498d0000
        0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x24, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x1a, 0xfd, //
        0x49, 0x8d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, //
        0x00, 0x00, 0x00, 0x02, 0x41, 0x42, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x24,
    ];

    #[test]
    fn pcapng_interfaces_resolutions_and_sections() {
        let r = CaptureReader::new(&PCAPNG[..]).unwrap();
        assert_eq!(r.format(), CaptureFormat::PcapNg);
        assert_eq!(
            read_ok(&PCAPNG),
            vec![
                (
                    TS_US,
                    LinkType::Ethernet,
                    60,
                    vec![0x11, 0x12, 0x13, 0x14, 0x15]
                ),
                (TS_US, LinkType::RawIp, 4, vec![0x45, 0, 0, 4]),
                (
                    1_700_000_100_500_000,
                    LinkType::Ipv4,
                    4,
                    vec![0x45, 0, 0, 4]
                ),
                // SPB: interface 0, no time of its own.
                (
                    1_700_000_100_500_000,
                    LinkType::Ethernet,
                    3,
                    vec![0x21, 0x22, 0x23]
                ),
                (TS_US, LinkType::Ethernet, 4, vec![0x31, 0x32, 0x33, 0x34]),
                (
                    2_000_000_000_000_000,
                    LinkType::LinuxSll,
                    2,
                    vec![0x41, 0x42]
                ),
            ]
        );
    }

    #[test]
    fn one_byte_reads_and_interruptions() {
        for file in [&PCAPNG[..], &PCAP_LE_US[..], &PCAP_MODIFIED[..]] {
            let r = CaptureReader::new(Trickle(file, false)).unwrap();
            let (frames, err) = read_all(r);
            assert!(err.is_none());
            assert_eq!(frames, read_ok(file));
        }
    }

    #[test]
    fn every_prefix_is_truncated_or_ends_cleanly() {
        for file in [
            &PCAPNG[..],
            &PCAP_LE_US[..],
            &PCAP_BE_NS[..],
            &PCAP_MODIFIED[..],
        ] {
            let full = read_ok(file);
            for cut in 0..file.len() {
                let prefix = &file[..cut];
                match CaptureReader::new(prefix) {
                    Ok(r) => {
                        let (frames, err) = read_all(r);
                        // Whatever was read is the start of the full list.
                        assert_eq!(frames[..], full[..frames.len()], "cut {cut}");
                        match err {
                            None | Some(CaptureError::Truncated { .. }) => {}
                            Some(e) => panic!("cut at {cut}: {e}"),
                        }
                    }
                    Err(CaptureError::Truncated { offset: 0 }) => assert!(cut >= 4),
                    Err(CaptureError::NotACapture { .. }) => assert!(cut < 4),
                    Err(e) => panic!("cut at {cut}: {e}"),
                }
            }
        }
    }

    #[test]
    fn truncated_last_record_after_complete_frames() {
        // Cut inside the data of the second record.
        let file = &PCAP_LE_US[..PCAP_LE_US.len() - 2];
        let mut r = CaptureReader::new(file).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().data, &[1, 2, 3, 4, 5, 6]);
        let record_start = r.offset();
        match r.next_frame() {
            Err(CaptureError::Truncated { offset }) => assert_eq!(offset, record_start),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.offset(), file.len() as u64);
        assert!(r.next_frame().unwrap().is_none());

        // Cut inside an EPB's trailing length.
        let (frames, err) = read_all(CaptureReader::new(&PCAPNG[..199]).unwrap());
        assert_eq!(frames.len(), 1);
        assert!(matches!(err, Some(CaptureError::Truncated { offset: 160 })));
    }

    #[test]
    fn not_a_capture() {
        let cases: [(&[u8], &str); 5] = [
            (b"", "empty"),
            (b"\xd4\xc3", "shorter"),
            (b"\x1f\x8b\x08\x00rest", "gzip"),
            (b"\x28\xb5\x2f\xfdrest", "zstd"),
            (b"GET / HTTP/1.1\r\n", "starts with [47, 45, 54, 20]"),
        ];
        for (input, needle) in cases {
            let e = CaptureReader::new(input).unwrap_err();
            assert!(matches!(e, CaptureError::NotACapture { .. }), "{e:?}");
            let msg = e.to_string();
            assert!(msg.contains(needle), "{msg}");
        }
    }

    #[test]
    fn corrupt_headers() {
        // pcap version 3.
        let mut v = PCAP_LE_US;
        v[4] = 3;
        assert!(matches!(
            CaptureReader::new(&v[..]),
            Err(CaptureError::Corrupt { offset: 4, .. })
        ));
        // pcapng with a bad byte-order magic.
        let mut v = PCAPNG;
        v[8] = 0;
        assert!(matches!(
            CaptureReader::new(&v[..]),
            Err(CaptureError::Corrupt { offset: 0, .. })
        ));
        // pcapng major version 2.
        let mut v = PCAPNG;
        v[12] = 2;
        assert!(matches!(
            CaptureReader::new(&v[..]),
            Err(CaptureError::Corrupt { offset: 0, .. })
        ));
    }

    #[test]
    fn corrupt_blocks() {
        let read_err = |v: &[u8]| read_all(CaptureReader::new(v).unwrap()).1;
        // EPB on interface 7, which no IDB described.
        let mut v = PCAPNG;
        v[120 + 8] = 7;
        assert!(matches!(
            read_err(&v),
            Some(CaptureError::Corrupt { offset: 120, .. })
        ));
        // Block length not a multiple of 4.
        let mut v = PCAPNG;
        v[124] = 0x29;
        assert!(matches!(
            read_err(&v),
            Some(CaptureError::Corrupt { offset: 120, .. })
        ));
        // Trailing length differs.
        let mut v = PCAPNG;
        v[156] = 0x2c;
        assert!(matches!(
            read_err(&v),
            Some(CaptureError::Corrupt { offset: 120, .. })
        ));
        // Captured length larger than the block.
        let mut v = PCAPNG;
        v[120 + 20] = 9;
        assert!(matches!(
            read_err(&v),
            Some(CaptureError::Corrupt { offset: 120, .. })
        ));
        // IDB option longer than the block.
        let mut v = PCAPNG;
        v[48 + 18] = 0x40;
        assert!(matches!(
            read_err(&v),
            Some(CaptureError::Corrupt { offset: 48, .. })
        ));
        // Interfaces belong to a section: the second section's EPB may not
        // name interface 1.
        let mut v = PCAPNG;
        let epb2 = PCAPNG.len() - 36;
        v[epb2 + 11] = 1;
        let (frames, err) = read_all(CaptureReader::new(&v[..]).unwrap());
        assert_eq!(frames.len(), 5);
        assert!(matches!(err, Some(CaptureError::Corrupt { .. })));
        // SPB before any IDB.
        let mut v = PCAPNG[..28].to_vec();
        v.extend_from_slice(&PCAPNG[288..308]);
        assert!(matches!(
            read_err(&v),
            Some(CaptureError::Corrupt { offset: 28, .. })
        ));
    }

    #[test]
    fn oversized_records_are_refused_before_buffering() {
        // pcap record claiming 0xffffffff bytes.
        let mut v = PCAP_LE_US.to_vec();
        v[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut r = CaptureReader::new(&v[..]).unwrap();
        assert!(matches!(
            r.next_frame(),
            Err(CaptureError::TooLarge {
                offset: 24,
                len: u32::MAX
            })
        ));
        assert!(r.buf.capacity() < 1024);
        // pcapng EPB of 1 GiB.
        let mut v = PCAPNG;
        v[124..128].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        let mut r = CaptureReader::new(&v[..]).unwrap();
        assert!(matches!(
            r.next_frame(),
            Err(CaptureError::TooLarge { offset: 120, .. })
        ));
        assert!(r.buf.capacity() < 1024);
        // A skipped block may be any length: it is streamed, not buffered,
        // so a huge one only makes the file truncated.
        let mut v = PCAPNG[..120].to_vec();
        v.extend_from_slice(&[0xad, 0x0b, 0, 0, 0xf0, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        let (frames, err) = read_all(CaptureReader::new(&v[..]).unwrap());
        assert!(frames.is_empty());
        assert!(matches!(err, Some(CaptureError::Truncated { offset: 120 })));
    }

    #[test]
    fn pcapng_timestamp_conversion() {
        assert_eq!(ng_ts_to_us(1_500_000, 6, 0), 1_500_000);
        assert_eq!(ng_ts_to_us(1_500_000, 3, 0), 1_500_000_000);
        assert_eq!(ng_ts_to_us(1_500_000, 0, 0), 1_500_000_000_000);
        assert_eq!(ng_ts_to_us(1_500_000_999, 9, 0), 1_500_000);
        assert_eq!(ng_ts_to_us(u64::MAX, 127, 0), 0);
        assert_eq!(ng_ts_to_us(u64::MAX, 0, 0), i64::MAX);
        assert_eq!(ng_ts_to_us(3, 0x81, 0), 1_500_000);
        assert_eq!(ng_ts_to_us(1 << 20, 0x94, 0), 1_000_000);
        assert_eq!(ng_ts_to_us(u64::MAX, 0xff, i64::MIN), i64::MIN);
        assert_eq!(ng_ts_to_us(0, 6, -5), -5_000_000);
    }

    #[test]
    fn writer_round_trip() {
        let mut w = PcapWriter::new(Vec::new(), LinkType::LinuxSll2).unwrap();
        let big = vec![0x5a; MAX_RECORD_LEN as usize];
        w.write_frame(TS_US, &[1, 2, 3]).unwrap();
        w.write_frame_with_orig_len(0, &[], 1500).unwrap();
        w.write_frame(4_294_967_295_999_999, &big).unwrap();
        w.write_frame(TS_US + 1, &[4]).unwrap();
        w.flush().unwrap();
        let file = w.into_inner();
        assert_eq!(file[..4], PCAP_LE_US[..4]);

        let mut r = CaptureReader::new(&file[..]).unwrap();
        let mut seen = Vec::new();
        let mut cap = 0;
        while let Some(f) = r.next_frame().unwrap() {
            seen.push((f.ts_us, f.link, f.orig_len, f.data.len()));
            cap = r.buf.capacity();
        }
        assert_eq!(
            seen,
            vec![
                (TS_US, LinkType::LinuxSll2, 3, 3),
                (0, LinkType::LinuxSll2, 1500, 0),
                (
                    4_294_967_295_999_999,
                    LinkType::LinuxSll2,
                    MAX_RECORD_LEN,
                    big.len()
                ),
                (TS_US + 1, LinkType::LinuxSll2, 1, 1),
            ]
        );
        // One buffer, sized by the largest record, serves all.
        assert_eq!(cap, MAX_RECORD_LEN as usize);
        assert_eq!(r.offset(), file.len() as u64);
    }

    #[test]
    fn writer_refuses_what_pcap_cannot_hold() {
        let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet).unwrap();
        let kind = |r: io::Result<()>| r.unwrap_err().kind();
        assert_eq!(kind(w.write_frame(-1, &[])), io::ErrorKind::InvalidInput);
        assert_eq!(
            kind(w.write_frame(1 << 53, &[])),
            io::ErrorKind::InvalidInput
        );
        let big = vec![0; MAX_RECORD_LEN as usize + 1];
        assert_eq!(kind(w.write_frame(0, &big)), io::ErrorKind::InvalidInput);
        // Nothing was written after the header.
        assert_eq!(w.into_inner().len(), 24);
    }
}
