//! The Telnet protocol and line reader on arbitrary client bytes, split where the input
//! says. Nothing may panic; a split may not change the outcome; every answer we send must
//! be a well-formed command (`IAC` then DO/DONT/WILL/WONT and an option, or an `SB … SE`
//! we build); memory stays within the caps.
#![no_main]

use honeyscope_services::telnet::lines::Lines;
use honeyscope_services::telnet::protocol::{code::*, Negotiation, Telnet};
use libfuzzer_sys::fuzz_target;

const OFFER: &[Negotiation] = &[
    Negotiation { command: DO, option: ECHO },
    Negotiation { command: DO, option: NAWS },
    Negotiation { command: WILL, option: ECHO },
    Negotiation { command: WILL, option: SGA },
];

fn run(parts: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut t = Telnet::new(OFFER, &mut out);
    let mut lines = Lines::new(256);
    let (mut done, mut events) = (Vec::new(), Vec::new());
    for part in parts {
        let mut data = Vec::new();
        t.receive(part, &mut data, &mut out, &mut events);
        lines.push(&data, &mut done);
    }
    assert!(done.iter().all(|l| l.len() <= 256));
    assert!(lines.pending().len() <= 256);
    (done, out, events.len())
}

fuzz_target!(|input: &[u8]| {
    let Some((&cut, body)) = input.split_first() else {
        return;
    };
    let cut = usize::from(cut) * body.len() / 256;
    let whole = run(&[body]);
    assert_eq!(run(&[&body[..cut], &body[cut..]]), whole, "a split changed the outcome");
    // Our answers: IAC DO/DONT/WILL/WONT option, or IAC SB opt 1 IAC SE.
    let mut out = &whole.1[..];
    while !out.is_empty() {
        match out {
            [IAC, DO | DONT | WILL | WONT, _, rest @ ..] => out = rest,
            [IAC, SB, TTYPE | NEW_ENVIRON, 1, IAC, SE, rest @ ..] => out = rest,
            _ => panic!("a malformed answer: {out:?}"),
        }
    }
});
