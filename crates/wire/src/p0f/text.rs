//! Writing p0f's text forms straight into a `String`.
//!
//! A packet's log line holds a dozen numbers and a dozen pieces; written through `fmt`, the
//! formatter's dispatch and integer padding were most of the time `honeyscope fingerprint`
//! spent. Each form implements [`PushText`] once; its `Display` goes through it (see
//! [`display_via_push_text`]), so there is one spelling of every form.

/// Text that appends itself to a `String`.
pub trait PushText {
    /// Appends the text.
    fn push_text(&self, out: &mut String);
}

/// Appends `v` in decimal. Most numbers in a line are below 1000 (octets, TTLs,
/// distances, option counts), so those take a few pushes and no loop.
pub fn push_num(out: &mut String, v: u32) {
    let digit = |d: u32| (b'0' + (d % 10) as u8) as char;
    match v {
        0..=9 => out.push(digit(v)),
        10..=99 => {
            out.push(digit(v / 10));
            out.push(digit(v));
        }
        100..=999 => {
            out.push(digit(v / 100));
            out.push(digit(v / 10));
            out.push(digit(v));
        }
        _ => {
            let mut buf = [0u8; 10];
            let mut i = buf.len();
            let mut v = v;
            while v > 0 {
                i -= 1;
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
            for &d in &buf[i..] {
                out.push(d as char);
            }
        }
    }
}

/// `impl Display` for types that implement [`PushText`].
macro_rules! display_via_push_text {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut s = String::new();
                $crate::p0f::text::PushText::push_text(self, &mut s);
                f.write_str(&s)
            }
        }
    )*};
}
pub(crate) use display_via_push_text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_decimal() {
        for v in [0, 7, 9, 10, 99, 100, 255, 999, 1000, 1460, 65535, u32::MAX] {
            let mut s = String::from("x");
            push_num(&mut s, v);
            assert_eq!(s, format!("x{v}"));
        }
    }
}
