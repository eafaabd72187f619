//! The config reader on arbitrary text: an error or a config, never a panic; a config that
//! loads answers its lookups.
#![no_main]

use honeyscope_sensor::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = Config::parse(text) {
        let ip = "198.51.100.7".parse().unwrap();
        if cfg.claims(ip) {
            let t = cfg.template_for(ip);
            let _ = (t.tcp_action(23), t.udp_action(53));
        }
    }
});
