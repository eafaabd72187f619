//! The HTTP request path on arbitrary client bytes: framing (`http::conn`), the device's
//! answer, and exploit recognition with command and URL extraction. Nothing may panic; a
//! split may not change the requests; every answer is one well-framed response.
#![no_main]

use honeyscope_services::device::Profile;
use honeyscope_services::http::conn::{Conn, HttpLimits, Step};
use honeyscope_services::http::exploit::{self, Signatures};
use honeyscope_services::http::service::respond;
use libfuzzer_sys::fuzz_target;

fn run(parts: &[&[u8]], profile: &Profile) -> (Vec<Step>, Vec<u8>) {
    let limits = HttpLimits {
        max_body: 4096,
        ..HttpLimits::default()
    };
    let mut conn = Conn::new(limits);
    let mut steps = Vec::new();
    let mut out = Vec::new();
    for part in parts {
        conn.feed(part);
        loop {
            match conn.next_step() {
                Step::Need => break,
                Step::Request(r) => {
                    assert!(r.body.len() <= limits.max_body);
                    let before = out.len();
                    respond(profile, &r, false, &mut out);
                    assert!(out[before..].starts_with(b"HTTP/1.1 "));
                    let headers: Vec<(&[u8], &[u8])> = r
                        .headers
                        .iter()
                        .map(|(n, v)| (n.as_slice(), v.as_slice()))
                        .collect();
                    let f = Signatures::builtin().inspect(&exploit::Request {
                        method: &r.method,
                        target: &r.target,
                        headers: &headers,
                        body: &r.body,
                    });
                    assert!(f.commands.len() <= 16 && f.downloads.len() <= 32);
                    steps.push(Step::Request(r));
                }
                s @ Step::Refuse(_) => {
                    steps.push(s);
                    break;
                }
            }
        }
    }
    (steps, out)
}

fuzz_target!(|input: &[u8]| {
    let Some((&cut, body)) = input.split_first() else {
        return;
    };
    let profiles = Profile::builtin();
    let profile = &profiles[usize::from(cut) % profiles.len()];
    let cut = usize::from(cut) * body.len() / 256;
    let whole = run(&[body], profile);
    let split = run(&[&body[..cut], &body[cut..]], profile);
    assert_eq!(whole, split, "a split changed the requests");
});
