//! OS classes: one coarse name for the many ways fingerprinters label an operating system.
//!
//! Honeyd's p0f v1 database labels a SYN `Linux 2.6 .1-7` or `Windows XP SP1`; p0f v3 says
//! `Linux 3.11 and newer` (or, in full, `s:unix:Linux:3.11 and newer`). Reports count
//! classes — Linux, Windows, Solaris, … — so that a Honeyd log and honeyscope's own events
//! agree.

/// The class for labels that name no system we know (but are not empty).
pub const OTHER: &str = "other";
/// The class for a missing or empty label.
pub const UNKNOWN: &str = "unknown";

/// Keywords (lowercase, matched against the label's first word, or its first two words
/// joined, for `Mac OS`) and their class, most specific first.
const CLASSES: &[(&str, &str)] = &[
    ("linux", "Linux"),
    ("android", "Linux"),
    ("windows", "Windows"),
    ("win", "Windows"),
    ("solaris", "Solaris"),
    ("sunos", "Solaris"),
    ("illumos", "Solaris"),
    ("freebsd", "FreeBSD"),
    ("openbsd", "OpenBSD"),
    ("netbsd", "NetBSD"),
    ("macos", "macOS/iOS"),
    ("mac os", "macOS/iOS"),
    ("mac", "macOS/iOS"),
    ("ios", "macOS/iOS"),
    ("iphone", "macOS/iOS"),
    ("cisco", "Cisco"),
    ("hp-ux", "HP-UX"),
    ("aix", "AIX"),
    ("irix", "IRIX"),
    ("tru64", "Tru64"),
    ("nmap", "scanner"),
    ("masscan", "scanner"),
    ("zmap", "scanner"),
    ("hping3", "scanner"),
    ("mirai", "scanner"),
];

/// The OS class of a fingerprint label.
pub fn os_class(label: Option<&str>) -> &'static str {
    let Some(label) = label else { return UNKNOWN };
    // p0f v3's full form `type:class:name:flavor`: the name is the third field.
    let name = match label.splitn(4, ':').collect::<Vec<_>>().as_slice() {
        [_, _, name, _] | [_, _, name] if !name.is_empty() => *name,
        _ => label,
    };
    let name = name.trim();
    if name.is_empty() || name.eq_ignore_ascii_case("unknown") || name == "???" {
        return UNKNOWN;
    }
    let lower = name.to_ascii_lowercase();
    let mut words = lower.split(|c: char| c.is_whitespace() || c == '/' || c == ',');
    let first = words.next().unwrap_or("");
    let two = format!("{first} {}", words.next().unwrap_or(""));
    CLASSES
        .iter()
        .find(|(key, _)| two.trim_end() == *key || first == *key)
        .map_or(OTHER, |(_, class)| class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honeyd_and_p0f_labels_share_classes() {
        for (label, class) in [
            ("Linux 2.6 .1-7", "Linux"),
            ("Linux 2.6 ", "Linux"),
            ("Linux 3.11 and newer", "Linux"),
            ("s:unix:Linux:3.11 and newer", "Linux"),
            ("Windows XP SP1", "Windows"),
            ("Windows 7 or 8", "Windows"),
            ("s:win:Windows:7 or 8", "Windows"),
            ("Solaris 10 (beta)", "Solaris"),
            ("SunOS 4.1", "Solaris"),
            ("FreeBSD 5.3", "FreeBSD"),
            ("Mac OS X 10.x", "macOS/iOS"),
            ("MacOS 10.2.6", "macOS/iOS"),
            ("s:!:NMap:SYN scan", "scanner"),
            ("Plan 9", "other"),
            ("", "unknown"),
            ("  ", "unknown"),
            ("???", "unknown"),
        ] {
            assert_eq!(os_class(Some(label)), class, "{label:?}");
        }
        assert_eq!(os_class(None), "unknown");
    }
}
