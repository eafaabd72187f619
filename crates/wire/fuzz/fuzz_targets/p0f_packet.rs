//! Fingerprints the input as a frame of every link type, through the handshake table and
//! a database with specific, generic, application and fuzzy-prone signatures.
#![no_main]

use std::sync::OnceLock;

use honeyscope_wire::p0f::{Database, Fingerprinter, PacketSig};
use honeyscope_wire::LinkType;
use libfuzzer_sys::fuzz_target;

const DB: &str = "classes = win,unix,other\n\
    [mtu]\nlabel = Ethernet or modem\nsig = 1500\n\
    [tcp:request]\n\
    label = s:unix:Linux:3.11 and newer\nsig = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0\n\
    label = g:unix:Linux:2.2.x-3.x\nsig = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0\n\
    label = s:!:NMap:SYN scan\nsys = @unix,@win\nsig = *:64-:0:1460:1024,0:mss::0\n\
    label = s:win:Windows:7 or 8\nsig = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0\n\
    label = s:other:X:\nsig = 6:64:0:*:%512,*:mss,?30,sack,eol+3:flow:+\n\
    [tcp:response]\n\
    label = g:unix:Linux:3.x\nsig = *:64:0:*:mtu*2,*:mss,sok,ts,nop,ws:df:0\n";

fn db() -> &'static Database {
    static DB_ONCE: OnceLock<Database> = OnceLock::new();
    DB_ONCE.get_or_init(|| Database::parse(DB).expect("the fuzz database loads"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = PacketSig::from_ip(data) {
        let _ = sig.raw(1460).to_string();
        let m = db().match_packet(&sig, 0);
        assert!(m.label.is_some() == m.entry.is_some());
    }
    let mut fp = Fingerprinter::new(db());
    for (i, link) in LinkType::KNOWN.into_iter().enumerate() {
        if let Some(obs) = fp.frame(link, data, i as i64) {
            let _ = obs.to_string();
            let _ = obs.mtu_line().map(|m| m.to_string());
        }
    }
    // A SYN+ACK answering the input read as a SYN: the pairing path.
    if data.len() > 40 {
        let _ = fp.packet(data, 100);
    }
});
