//! Reads the input as a capture file and summarises every frame in it.
#![no_main]

use honeyscope_wire::{probe_from_frame, CaptureReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(data) else {
        return;
    };
    let _ = reader.format();
    // Bounded: every frame consumes input bytes, and an error ends reading.
    while let Ok(Some(frame)) = reader.next_frame() {
        assert!(frame.data.len() <= honeyscope_wire::capture::MAX_RECORD_LEN as usize);
        let _ = probe_from_frame(frame.link, frame.data);
    }
    assert!(reader.offset() <= data.len() as u64);
    // A finished reader stays finished.
    assert!(matches!(reader.next_frame(), Ok(None)));
});
