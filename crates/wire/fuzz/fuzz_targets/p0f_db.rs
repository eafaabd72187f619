//! Reads the input as a p0f.fp file; every signature it accepts prints back to itself.
#![no_main]

use honeyscope_wire::p0f::{Database, TcpSig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(db) = Database::parse(text) {
        for entry in db.requests.iter().chain(&db.responses) {
            let printed = entry.sig.to_string();
            let again: TcpSig = printed.parse().expect("a printed signature parses");
            assert_eq!(again, entry.sig, "{printed}");
        }
    }
    // Single signatures too.
    if let Ok(sig) = text.parse::<TcpSig>() {
        assert_eq!(sig.to_string().parse::<TcpSig>().as_ref(), Ok(&sig));
    }
});
