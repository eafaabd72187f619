//! The shell parser on arbitrary client bytes. Nothing may panic; an error's offset lies
//! in the input; a script keeps to the caps, and the caps count exactly what
//! `node_count` and `depth` report: the script parses again with limits at its own counts
//! and fails with `TooLarge` at one node less. Looser limits never change the outcome of a
//! parse that did not hit a cap.
#![no_main]

use honeyscope_services::shell::parse::{parse, Limits, ParseErrorKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let limits = Limits::default();
    let got = parse(input, &limits);
    let loose = Limits {
        max_depth: 32,
        max_nodes: 1 << 16,
    };
    match &got {
        Ok(script) => {
            let (nodes, depth) = (script.node_count(), script.depth());
            assert!(nodes <= limits.max_nodes && depth <= limits.max_depth);
            let exact = Limits {
                max_depth: depth,
                max_nodes: nodes,
            };
            assert_eq!(parse(input, &exact).as_ref(), Ok(script));
            if nodes > 0 {
                let fewer = Limits {
                    max_nodes: nodes - 1,
                    ..exact
                };
                let e = parse(input, &fewer).unwrap_err();
                assert_eq!(e.kind, ParseErrorKind::TooLarge);
            }
            assert_eq!(parse(input, &loose).as_ref(), Ok(script));
        }
        Err(e) => {
            assert!(e.offset <= input.len(), "{e:?}");
            assert!(!e.message().is_empty());
            if !matches!(e.kind, ParseErrorKind::TooDeep | ParseErrorKind::TooLarge) {
                assert_eq!(parse(input, &loose).as_ref(), Err(e));
            }
        }
    }
});
