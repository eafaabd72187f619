//! Time: UTC microseconds inside, local wall-clock time where Honeyd wrote it.
//!
//! Honeyd stamps each line with the machine's local time, `YYYY-MM-DD-HH:MM:SS.ffff`, the
//! fraction in units of 100 µs. [`LocalZone`] converts between that and [`Timestamp`] for one
//! time zone, caching the UTC offset per hour so a multi-gigabyte log does not ask the
//! time-zone database once per line.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// A point in time: microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Earliest and latest times honeyscope accepts (years 1 to 9999), so that every timestamp
/// can be written in every format.
const MIN_US: i64 = -62_135_596_800_000_000;
const MAX_US: i64 = 253_402_300_799_999_999;

impl Timestamp {
    /// Microseconds since the Unix epoch.
    pub fn as_micros(self) -> i64 {
        self.0
    }

    /// A timestamp from microseconds, if within years 1..=9999.
    pub fn from_micros(us: i64) -> Option<Timestamp> {
        (MIN_US..=MAX_US).contains(&us).then_some(Timestamp(us))
    }

    /// The UTC day this timestamp falls on, as days since 1970-01-01.
    pub fn utc_day(self) -> i64 {
        self.0.div_euclid(86_400_000_000)
    }

    /// The UTC date as `YYYY-MM-DD`.
    pub fn utc_date(self) -> String {
        let d = Ymd::from_epoch_day(self.utc_day());
        format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
    }

    /// RFC 3339 in UTC with six fraction digits: `2023-04-28T13:47:14.371800Z`.
    pub fn to_rfc3339(self) -> String {
        let mut s = String::with_capacity(27);
        self.write_rfc3339(&mut s);
        s
    }

    /// Appends the RFC 3339 form to `out`.
    pub fn write_rfc3339(self, out: &mut String) {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000) as u32;
        push_stamp(out, secs, b'T', micros, 6, "Z");
    }

    /// Parses RFC 3339 (any offset, any fraction up to nanoseconds; sub-microsecond digits
    /// are truncated).
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let ts: jiff::Timestamp = s.parse().ok()?;
        Timestamp::from_micros(ts.as_microsecond())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A proleptic Gregorian date, as plain numbers (the hot path avoids a calendar library).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ymd {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Ymd {
    /// Days since 1970-01-01, or `None` if the date does not exist.
    pub fn to_epoch_day(self) -> Option<i64> {
        let Ymd { year, month, day } = self;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = year as i64 - (month <= 2) as i64;
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month as i64 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(era * 146_097 + doe - 719_468)
    }

    /// The date `days` after 1970-01-01.
    pub fn from_epoch_day(days: i64) -> Ymd {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + (month <= 2) as i64) as i32;
        Ymd { year, month, day }
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

fn split_day(secs: i64) -> (Ymd, u32) {
    let day = secs.div_euclid(86_400);
    (Ymd::from_epoch_day(day), secs.rem_euclid(86_400) as u32)
}

/// Writes `v` as `width` decimal digits at `buf[at..]`.
fn put_digits(buf: &mut [u8], at: usize, mut v: u32, width: usize) {
    for d in buf[at..at + width].iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// `YYYY-MM-DD<sep>HH:MM:SS.` for `secs` (seconds since the epoch, already in the wanted
/// zone), then `frac_width` digits of `frac`, then `tail`, appended in one piece. The log
/// writers put two stamps on every event and events come in time order, so each thread keeps
/// the last second it wrote per separator and only the fraction is formatted anew.
fn push_stamp(out: &mut String, secs: i64, sep: u8, frac: u32, frac_width: usize, tail: &str) {
    thread_local! {
        /// (separator, second, its text) for the last two stamps written.
        static LAST: std::cell::Cell<[(u8, i64, [u8; 19]); 2]> =
            const { std::cell::Cell::new([(0, i64::MIN, [0; 19]); 2]) };
    }
    let mut buf = *b"0000-00-00T00:00:00.000000";
    let slot = usize::from(sep == b'-');
    let mut last = LAST.get();
    if last[slot].0 == sep && last[slot].1 == secs {
        buf[..19].copy_from_slice(&last[slot].2);
    } else {
        let (date, sod) = split_day(secs);
        put_digits(&mut buf, 0, date.year.max(0) as u32, 4);
        put_digits(&mut buf, 5, date.month, 2);
        put_digits(&mut buf, 8, date.day, 2);
        buf[10] = sep;
        put_digits(&mut buf, 11, sod / 3600, 2);
        put_digits(&mut buf, 14, sod / 60 % 60, 2);
        put_digits(&mut buf, 17, sod % 60, 2);
        let mut head = [0; 19];
        head.copy_from_slice(&buf[..19]);
        last[slot] = (sep, secs, head);
        LAST.set(last);
    }
    put_digits(&mut buf, 20, frac, frac_width);
    crate::text::push_ascii(out, &buf[..20 + frac_width]);
    out.push_str(tail);
}

/// A time zone for reading and writing Honeyd's local timestamps, with an hourly offset
/// cache in each direction. It can be shared by threads.
pub struct LocalZone {
    tz: TimeZone,
    name: String,
    /// Local hour key (days since epoch * 24 + hour) → offset seconds, valid for that hour.
    to_utc: HourCache,
    /// UTC hour (seconds / 3600) → offset seconds, valid for that hour.
    from_utc: HourCache,
    /// The last date parsed (`YYYYMMDD` in the high half) and its epoch day (low half):
    /// consecutive log lines nearly always share a date.
    last_date: AtomicU64,
}

/// One hour's UTC offset, packed into one atomic word so that a zone can be shared by
/// threads without locks or torn reads: the hour key (hours since the epoch, offset to be
/// non-negative) in the high 44 bits, the offset in seconds (offset likewise) in the low 20.
struct HourCache(AtomicU64);

const EMPTY_CACHE: u64 = u64::MAX;
const KEY_BIAS: i64 = 1 << 40;
const OFFSET_BIAS: i32 = 1 << 19;

impl HourCache {
    fn new() -> Self {
        HourCache(AtomicU64::new(EMPTY_CACHE))
    }

    fn get(&self, key: i64) -> Option<i32> {
        let v = self.0.load(Ordering::Relaxed);
        (v != EMPTY_CACHE && (v >> 20) as i64 - KEY_BIAS == key)
            .then(|| (v & 0xf_ffff) as i32 - OFFSET_BIAS)
    }

    fn set(&self, key: i64, offset: i32) {
        // Hours of years 1..=9999 and real offsets (< 26 h) always fit.
        let (k, o) = (key + KEY_BIAS, offset + OFFSET_BIAS);
        if (0..1 << 44).contains(&k) && (0..1 << 20).contains(&o) {
            self.0
                .store(((k as u64) << 20) | o as u64, Ordering::Relaxed);
        }
    }
}

impl Clone for LocalZone {
    fn clone(&self) -> Self {
        LocalZone::new(self.tz.clone(), self.name.clone())
    }
}

impl fmt::Debug for LocalZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalZone({})", self.name)
    }
}

/// A `--tz` value that names no known zone.
#[derive(Debug, thiserror::Error)]
#[error("unknown time zone {0:?}: use an IANA name such as UTC, Europe/Berlin or Asia/Tokyo, or a fixed offset such as +09:00")]
pub struct UnknownZone(pub String);

impl LocalZone {
    fn new(tz: TimeZone, name: String) -> LocalZone {
        LocalZone {
            tz,
            name,
            to_utc: HourCache::new(),
            from_utc: HourCache::new(),
            last_date: AtomicU64::new(0),
        }
    }

    /// UTC.
    pub fn utc() -> LocalZone {
        LocalZone::new(TimeZone::UTC, "UTC".into())
    }

    /// This machine's zone (`TZ`, else `/etc/localtime`), UTC if it cannot be determined.
    pub fn system() -> LocalZone {
        let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let name = tz.iana_name().unwrap_or("system").to_string();
        LocalZone::new(tz, name)
    }

    /// An IANA zone name (`Asia/Tokyo`), `UTC`, `local`, or a fixed offset (`+09:00`, `-0500`).
    pub fn named(name: &str) -> Result<LocalZone, UnknownZone> {
        if name.eq_ignore_ascii_case("local") || name.eq_ignore_ascii_case("system") {
            return Ok(LocalZone::system());
        }
        // UTC without the zone database: looking a name up there reads the whole
        // zoneinfo tree first (a sixth of a small ingest's time).
        if name.eq_ignore_ascii_case("UTC") {
            return Ok(LocalZone::new(TimeZone::UTC, name.into()));
        }
        if let Some(offset) = parse_fixed_offset(name) {
            let tz = TimeZone::fixed(
                jiff::tz::Offset::from_seconds(offset).map_err(|_| UnknownZone(name.into()))?,
            );
            return Ok(LocalZone::new(tz, name.into()));
        }
        match TimeZone::get(name) {
            Ok(tz) => Ok(LocalZone::new(tz, name.into())),
            Err(_) => Err(UnknownZone(name.into())),
        }
    }

    /// The zone's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Converts a local wall-clock time (days since 1970-01-01 in local terms, second of
    /// the day, microseconds) to UTC. A time that occurs twice (when clocks go back) takes
    /// the earlier instant; a time that never occurs (when clocks go forward) is read with
    /// the offset in force before the gap.
    pub fn local_to_utc(&self, days: i64, sod: u32, micros: u32) -> Option<Timestamp> {
        let hour_key = days * 24 + (sod / 3600) as i64;
        let offset = match self.to_utc.get(hour_key) {
            Some(off) => off,
            None => {
                let hour_start = days * 86_400 + (sod - sod % 3600) as i64;
                let start = self.offset_of_local(hour_start)?;
                if start == self.offset_of_local(hour_start + 3599)? {
                    self.to_utc.set(hour_key, start);
                    start
                } else {
                    self.offset_of_local(days * 86_400 + sod as i64)?
                }
            }
        };
        let local_secs = days * 86_400 + sod as i64;
        Timestamp::from_micros((local_secs - offset as i64) * 1_000_000 + micros as i64)
    }

    /// The offset for a local time given as seconds since the local epoch.
    fn offset_of_local(&self, local_secs: i64) -> Option<i32> {
        let (d, sod) = split_day(local_secs);
        let date = Date::new(d.year.try_into().ok()?, d.month as i8, d.day as i8).ok()?;
        let time = jiff::civil::Time::new(
            (sod / 3600) as i8,
            (sod / 60 % 60) as i8,
            (sod % 60) as i8,
            0,
        )
        .ok()?;
        let amb = self
            .tz
            .to_ambiguous_timestamp(DateTime::from_parts(date, time));
        let off = match amb.offset() {
            jiff::tz::AmbiguousOffset::Unambiguous { offset } => offset,
            jiff::tz::AmbiguousOffset::Fold { before, .. } => before,
            jiff::tz::AmbiguousOffset::Gap { before, .. } => before,
        };
        Some(off.seconds())
    }

    /// The UTC offset in force at `ts`, in seconds.
    pub fn offset_at(&self, ts: Timestamp) -> i32 {
        let secs = ts.0.div_euclid(1_000_000);
        let hour = secs.div_euclid(3600);
        match self.from_utc.get(hour) {
            Some(off) => off,
            None => {
                let at = |s: i64| {
                    jiff::Timestamp::from_second(s)
                        .map(|t| self.tz.to_offset(t).seconds())
                        .unwrap_or(0)
                };
                let start = at(hour * 3600);
                if start == at(hour * 3600 + 3599) {
                    self.from_utc.set(hour, start);
                    start
                } else {
                    at(secs)
                }
            }
        }
    }

    /// Writes `ts` as Honeyd did: local time, `YYYY-MM-DD-HH:MM:SS.ffff` (100 µs units,
    /// truncated).
    pub fn write_honeyd_time(&self, ts: Timestamp, out: &mut String) {
        let offset = self.offset_at(ts) as i64;
        let secs = ts.0.div_euclid(1_000_000) + offset;
        let micros = ts.0.rem_euclid(1_000_000) as u32;
        push_stamp(out, secs, b'-', micros / 100, 4, "");
    }

    /// Parses Honeyd's `YYYY-MM-DD-HH:MM:SS.ffff` (exactly 24 bytes) in this zone. To read
    /// many stamps in a row, use one [`StampReader`].
    pub fn parse_honeyd_time(&self, s: &[u8]) -> Option<Timestamp> {
        self.stamp_reader().read(s)
    }

    /// A reader of consecutive Honeyd stamps in this zone (one per thread).
    pub fn stamp_reader(&self) -> StampReader<'_> {
        StampReader {
            zone: self,
            minute: None,
            days: 0,
            minute_sod: 0,
            minute_utc: None,
        }
    }

    /// A local date as days since the epoch, through the one-date cache (keyed `YYYYMMDD`).
    fn epoch_day(&self, ymd: Ymd) -> Option<i64> {
        let key = ymd.year as u32 * 10_000 + ymd.month * 100 + ymd.day;
        let cached = self.last_date.load(Ordering::Relaxed);
        if cached >> 32 == key as u64 && key != 0 {
            return Some((cached as u32 as i32) as i64);
        }
        let days = ymd.to_epoch_day()?;
        // Dates of years 1..=9999 are within ±3.7 million days: they fit an i32.
        if let Ok(small) = i32::try_from(days) {
            self.last_date.store(
                ((key as u64) << 32) | small as u32 as u64,
                Ordering::Relaxed,
            );
        }
        Some(days)
    }
}

/// A Honeyd stamp `YYYY-MM-DD-HH:MM:SS.ffff` as three little-endian 8-byte words: per word,
/// which bytes are digits (0xff) and what the other bytes must be.
const STAMP_DIGITS: [u64; 3] = [
    u64::from_le_bytes([0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0]),
    u64::from_le_bytes([0xff, 0xff, 0, 0xff, 0xff, 0, 0xff, 0xff]),
    u64::from_le_bytes([0, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff]),
];
const STAMP_SEPARATORS: [u64; 3] = [
    u64::from_le_bytes([0, 0, 0, 0, b'-', 0, 0, b'-']),
    u64::from_le_bytes([0, 0, b'-', 0, 0, b':', 0, 0]),
    u64::from_le_bytes([b':', 0, 0, b'.', 0, 0, 0, 0]),
];

/// Word `k` of a stamp with its digits as values 0–9, if its digits and separators are
/// right. All bytes are checked at once: per-byte compares were a sixth of the Honeyd
/// parser's instructions.
#[inline(always)]
fn stamp_word(w: u64, k: usize) -> Option<u64> {
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const SIXES: u64 = 0x0606_0606_0606_0606;
    let (digit, zeros) = (STAMP_DIGITS[k], ZEROS & STAMP_DIGITS[k]);
    let digits = w & digit;
    // A digit byte is 0x30..=0x39: high nibble 3, and still 3 after adding 6 (no carry
    // leaves a byte whose high nibble is 3).
    let bad = ((digits & HIGH) ^ zeros)
        | ((digits.wrapping_add(SIXES & digit) & HIGH) ^ zeros)
        | ((w & !digit) ^ STAMP_SEPARATORS[k]);
    (bad == 0).then(|| w - zeros)
}

/// Digits `i` and `i + 1` of a word from [`stamp_word`], as a number.
#[inline(always)]
fn two_digits(w: u64, i: u32) -> u32 {
    let d = |i: u32| ((w >> (8 * i)) & 0xff) as u32;
    d(i) * 10 + d(i + 1)
}

/// Reads consecutive Honeyd stamps in one zone. Log lines come in time order, so most share
/// the previous line's minute: its date, hour and minute are read once, and each line reads
/// only its seconds (a fifth of the work of a whole stamp).
pub struct StampReader<'z> {
    zone: &'z LocalZone,
    /// The bytes `YYYY-MM-DD-HH:MM` of the last minute read, once one was. (Not a sentinel
    /// value: any sixteen bytes can come in, and must be checked before they are trusted.)
    minute: Option<u128>,
    /// That minute's local day (since the epoch) and second of the day.
    days: i64,
    minute_sod: u32,
    /// The minute's start in UTC microseconds, when its whole hour has one offset.
    minute_utc: Option<i64>,
}

impl StampReader<'_> {
    /// Parses one stamp (exactly 24 bytes), like [`LocalZone::parse_honeyd_time`].
    #[inline]
    pub fn read(&mut self, s: &[u8]) -> Option<Timestamp> {
        let s: &[u8; 24] = s.try_into().ok()?;
        let (head, tail) = s.split_at(16);
        let minute = u128::from_le_bytes(head.try_into().ok()?);
        if Some(minute) != self.minute {
            self.read_minute(minute)?;
        }
        let w = stamp_word(u64::from_le_bytes(tail.try_into().ok()?), 2)?;
        let (secs, frac) = (two_digits(w, 1), two_digits(w, 4) * 100 + two_digits(w, 6));
        if secs > 59 {
            return None;
        }
        match self.minute_utc {
            Some(start) => {
                Timestamp::from_micros(start + secs as i64 * 1_000_000 + frac as i64 * 100)
            }
            None => self
                .zone
                .local_to_utc(self.days, self.minute_sod + secs, frac * 100),
        }
    }

    /// Reads and remembers a new minute, `YYYY-MM-DD-HH:MM` as a little-endian word.
    #[cold]
    fn read_minute(&mut self, minute: u128) -> Option<()> {
        let w0 = stamp_word(minute as u64, 0)?;
        let w1 = stamp_word((minute >> 64) as u64, 1)?;
        let (hour, min) = (two_digits(w1, 3), two_digits(w1, 6));
        if hour > 23 || min > 59 {
            return None;
        }
        let ymd = Ymd {
            year: (two_digits(w0, 0) * 100 + two_digits(w0, 2)) as i32,
            month: two_digits(w0, 5),
            day: two_digits(w1, 0),
        };
        let days = self.zone.epoch_day(ymd)?;
        let sod = hour * 3600 + min * 60;
        // Converting the minute's start fills the zone's hour cache when the whole hour
        // has one offset; then every second of the minute is that start plus the seconds.
        let start = self.zone.local_to_utc(days, sod, 0)?;
        let uniform = self.zone.to_utc.get(days * 24 + hour as i64).is_some();
        self.minute = Some(minute);
        self.days = days;
        self.minute_sod = sod;
        self.minute_utc = uniform.then_some(start.0);
        Some(())
    }
}

/// `+09:00`, `-0500`, `+9` → seconds east of UTC.
fn parse_fixed_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits.parse::<i32>().ok()?, 0)
    } else {
        let split = digits.len() - 2;
        (
            digits[..split].parse::<i32>().ok()?,
            digits[split..].parse::<i32>().ok()?,
        )
    };
    (h <= 25 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honeyd_time_round_trips_in_utc() {
        let z = LocalZone::utc();
        let ts = z.parse_honeyd_time(b"2023-04-28-13:47:14.3718").unwrap();
        assert_eq!(ts.to_rfc3339(), "2023-04-28T13:47:14.371800Z");
        let mut s = String::new();
        z.write_honeyd_time(ts, &mut s);
        assert_eq!(s, "2023-04-28-13:47:14.3718");
    }

    #[test]
    fn honeyd_time_in_tokyo_is_nine_hours_ahead() {
        let z = LocalZone::named("Asia/Tokyo").unwrap();
        let ts = z.parse_honeyd_time(b"2016-04-01-00:00:00.0000").unwrap();
        assert_eq!(ts.to_rfc3339(), "2016-03-31T15:00:00.000000Z");
        let fixed = LocalZone::named("+09:00").unwrap();
        assert_eq!(
            fixed.parse_honeyd_time(b"2016-04-01-00:00:00.0000"),
            Some(ts)
        );
    }

    /// One reader over a walk of stamps (forward in odd steps, across minutes, hours, days
    /// and clock changes, with jumps back) reads each as jiff does; a time in a gap takes the
    /// offset before it and a repeated time its first instant, as jiff's `compatible`.
    #[test]
    fn a_stamp_reader_agrees_with_jiff_over_clock_changes() {
        for name in [
            "UTC",
            "Europe/Berlin",
            "America/St_Johns",
            "Asia/Kolkata",
            "+09:00",
        ] {
            let zone = LocalZone::named(name).unwrap();
            let tz = zone.tz.clone();
            let mut reader = zone.stamp_reader();
            for start in [
                "2023-03-25T23:58:30",
                "2023-10-29T00:59:00",
                "2016-04-01T00:00:00",
            ] {
                let mut t: jiff::civil::DateTime = start.parse().unwrap();
                for i in 0..2_000i64 {
                    let step = if i % 97 == 96 { -3_600 } else { 7 + i % 13 };
                    t = t
                        .checked_add(jiff::SignedDuration::from_secs(step))
                        .unwrap();
                    let t = t
                        .with()
                        .subsec_nanosecond((i % 10_000 * 100_000) as i32)
                        .build()
                        .unwrap();
                    let text = t.strftime("%Y-%m-%d-%H:%M:%S.%6f").to_string();
                    let want = tz.to_ambiguous_timestamp(t).compatible().unwrap();
                    let got = reader.read(&text.as_bytes()[..24]);
                    assert_eq!(got, Some(Timestamp(want.as_microsecond())), "{name} {text}");
                    assert_eq!(
                        zone.parse_honeyd_time(&text.as_bytes()[..24]),
                        got,
                        "{name} {text}"
                    );
                }
            }
            // Found by fuzzing: sixteen NUL bytes were taken for "no minute read yet".
            let nul_minute = b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0:01.0001";
            assert_eq!(zone.stamp_reader().read(nul_minute), None);
            assert_eq!(zone.parse_honeyd_time(nul_minute), None);
            assert_eq!(reader.read(b"2023-04-28-13:47:60.0000"), None);
            assert_eq!(reader.read(b"2023-04-28-13:47:1x.0000"), None);
            assert!(reader.read(b"2023-04-28-13:47:14.3718").is_some());
        }
    }

    #[test]
    fn dst_transitions_are_handled_per_line() {
        let z = LocalZone::named("Europe/Berlin").unwrap();
        // 2023-03-26 02:00 CET → 03:00 CEST. 01:59:59 is +01:00, 03:00:00 is +02:00.
        let a = z.parse_honeyd_time(b"2023-03-26-01:59:59.0000").unwrap();
        let b = z.parse_honeyd_time(b"2023-03-26-03:00:00.0000").unwrap();
        assert_eq!(b.0 - a.0, 1_000_000);
        // Fall back: 02:30 happens twice; we read the first, and write it back the same.
        let c = z.parse_honeyd_time(b"2023-10-29-02:30:00.0000").unwrap();
        assert_eq!(c.to_rfc3339(), "2023-10-29T00:30:00.000000Z");
        let mut s = String::new();
        z.write_honeyd_time(c, &mut s);
        assert_eq!(s, "2023-10-29-02:30:00.0000");
        // Offsets near the change come from the exact instant, not a stale cache.
        let mut s = String::new();
        z.write_honeyd_time(Timestamp(c.0 + 3_600_000_000), &mut s);
        assert_eq!(s, "2023-10-29-02:30:00.0000");
    }

    #[test]
    fn the_hour_cache_packs_without_loss() {
        let c = HourCache::new();
        assert_eq!(c.get(0), None);
        for (key, off) in [
            (0, 0),
            (-1, -3600),
            (87_000_000, 50_400),
            (-17_000_000, -43_200),
        ] {
            c.set(key, off);
            assert_eq!(c.get(key), Some(off));
            assert_eq!(c.get(key + 1), None);
        }
        fn shared<T: Sync>(_: &T) {}
        shared(&LocalZone::utc());
    }

    #[test]
    fn bad_times_are_rejected() {
        let z = LocalZone::utc();
        for bad in [
            &b"2023-04-28 13:47:14.3718"[..],
            b"2023-02-30-13:47:14.3718",
            b"2023-04-28-24:00:00.0000",
            b"2023-04-28-13:47:14.37",
            b"",
        ] {
            assert_eq!(z.parse_honeyd_time(bad), None, "{:?}", bad);
        }
        // Each byte replaced by each other byte: only digits in digit places still parse,
        // and then as the same stamp read digit by digit.
        let good = *b"2023-04-28-13:47:14.3718";
        for i in 0..good.len() {
            for b in 0..=255u8 {
                let mut s = good;
                s[i] = b;
                let digit_place = !matches!(i, 4 | 7 | 10 | 13 | 16 | 19);
                let parsed = z.parse_honeyd_time(&s);
                if s == good {
                    assert!(parsed.is_some());
                    continue;
                }
                if !(digit_place && b.is_ascii_digit()) {
                    assert_eq!(parsed, None, "{:?}", String::from_utf8_lossy(&s));
                    continue;
                }
                let text = std::str::from_utf8(&s).unwrap();
                let n = |a: usize, b: usize| text[a..b].parse::<i64>().unwrap();
                let (h, mi, se) = (n(11, 13), n(14, 16), n(17, 19));
                let date = jiff::civil::Date::new(n(0, 4) as i16, n(5, 7) as i8, n(8, 10) as i8);
                let want = match date {
                    Ok(d) if h < 24 && mi < 60 && se < 60 => {
                        let epoch = jiff::civil::date(1970, 1, 1);
                        let secs = d.since(epoch).unwrap().get_days() as i64 * 86_400;
                        Some(Timestamp(
                            (secs + h * 3600 + mi * 60 + se) * 1_000_000 + n(20, 24) * 100,
                        ))
                    }
                    _ => None,
                };
                assert_eq!(parsed, want, "{text}");
            }
        }
        assert!(LocalZone::named("Mars/Olympus").is_err());
    }

    #[test]
    fn rfc3339_round_trips() {
        let ts = Timestamp::parse_rfc3339("2023-04-28T13:47:14.371800Z").unwrap();
        assert_eq!(ts.to_rfc3339(), "2023-04-28T13:47:14.371800Z");
        let ts = Timestamp::parse_rfc3339("2023-04-28T22:47:14.5+09:00").unwrap();
        assert_eq!(ts.to_rfc3339(), "2023-04-28T13:47:14.500000Z");
        assert_eq!(Timestamp(0).utc_date(), "1970-01-01");
        assert_eq!(Timestamp(-1).utc_date(), "1969-12-31");
    }

    /// The per-second cache: stamps in the same second, the next second, back in time, and
    /// both kinds interleaved all read as jiff formats them.
    #[test]
    fn stamps_agree_with_jiff_whatever_their_order() {
        let tz = LocalZone::named("+09:00").unwrap();
        let jiff_tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(9));
        let mut t = 1_459_522_799_000_000i64; // 2016-04-01T14:59:59Z
        for step in [0, 1, 250_000, 999_999, 1, -3_000_000, 86_400_000_000, 7, 0] {
            t += step;
            let ts = Timestamp(t);
            let j = jiff::Timestamp::from_microsecond(t).unwrap();
            assert_eq!(
                ts.to_rfc3339(),
                j.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
            );
            let mut h = String::new();
            tz.write_honeyd_time(ts, &mut h);
            let local = jiff_tz.to_datetime(j);
            let want = local.strftime("%Y-%m-%d-%H:%M:%S.%6f").to_string();
            assert_eq!(h, want[..want.len() - 2], "{t}");
        }
    }
}
