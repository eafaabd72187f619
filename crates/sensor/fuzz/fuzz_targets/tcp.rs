//! The TCP core driven by arbitrary segments, reads, writes, closes and clock jumps: no
//! panic, memory within its caps, no segment longer than the MSS, and no data past the
//! window the peer gave (a zero-window probe is one byte).
#![no_main]

use honeyscope_sensor::tcp::{flag, Connection, Handshake, Limits, SegmentIn};
use libfuzzer_sys::fuzz_target;

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b.get(i).copied().unwrap_or(0), b.get(i + 1).copied().unwrap_or(0)])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    (u32::from(u16_at(b, i)) << 16) | u32::from(u16_at(b, i + 2))
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        rx_buffer: 2048,
        tx_buffer: 4096,
        out_of_order: 4,
        mss: 536,
        ..Limits::default()
    };
    let head = data.get(..8).unwrap_or(&[0; 8]);
    let wscale = (head[0] & 1 == 1).then_some((head[1] % 16, head[2] % 16));
    let (iss, irs) = (u32_at(head, 3), u32_at(head, 4));
    let mut c = Connection::accept(
        0,
        Handshake {
            iss,
            irs,
            peer_mss: u16_at(head, 6),
            wscale,
            peer_window: u16_at(head, 5),
            ts_recent: (head[0] & 2 == 2).then_some(u32_at(head, 4)),
        },
        limits.clone(),
    );
    let mss = 536usize;
    let mut now = 0i64;
    let mut buf = [0u8; 512];
    // Records of 12 bytes: op, then its arguments.
    for chunk in data.get(8..).unwrap_or_default().chunks(12) {
        let mut r = [0u8; 12];
        r[..chunk.len()].copy_from_slice(chunk);
        let r = &r[..];
        match r[0] % 6 {
            0 | 1 => {
                // A segment near what the connection expects, or anywhere.
                let near = r[0] % 6 == 0;
                let (una, _) = c.send_window();
                let seq = if near { irs.wrapping_add(u32::from(u16_at(r, 1))) } else { u32_at(r, 1) };
                let ack = if near { una.wrapping_add(u32::from(r[5]) % 8 * 100) } else { u32_at(r, 5) };
                let len = usize::from(r.get(9).copied().unwrap_or(0)) * 8;
                let payload = vec![r.get(10).copied().unwrap_or(0); len];
                c.segment(
                    now,
                    &SegmentIn {
                        seq,
                        ack,
                        flags: r.get(11).copied().unwrap_or(flag::ACK) | if near { flag::ACK } else { 0 },
                        window: u16_at(r, 7),
                        tsval: (r[0] & 0x80 != 0).then_some(u32_at(r, 1)),
                        payload: &payload,
                    },
                );
            }
            2 => {
                let n = usize::from(u16_at(r, 1)) % 3000;
                c.write(&vec![0x41; n]);
            }
            3 => {
                let n = usize::from(r[1]) * 2;
                c.read(&mut buf[..n.min(512)]);
            }
            4 => {
                if r[1] == 0 {
                    c.close();
                } else if r[1] == 1 {
                    c.abort();
                }
            }
            _ => {
                // The clock: a step, or straight to the next timer.
                now += match r[1] {
                    0 => c.poll_timeout().map_or(1, |t| (t - now).max(0)),
                    s => i64::from(s) * i64::from(u16_at(r, 2)) * 100,
                };
                c.handle_timeout(now);
            }
        }
        let (una, wnd) = c.send_window();
        while let Some(s) = c.poll_transmit(now) {
            assert!(s.payload.len() <= mss, "longer than the MSS");
            if !s.payload.is_empty() {
                let end = s.seq.wrapping_add(s.payload.len() as u32);
                let limit = una.wrapping_add(wnd.max(1));
                assert!(
                    end.wrapping_sub(una) <= limit.wrapping_sub(una),
                    "past the window: {una} + {wnd}, sent to {end}"
                );
            }
        }
        while c.poll_event().is_some() {}
        assert!(c.buffered() <= limits.tx_buffer + 2 * limits.rx_buffer);
    }
});
