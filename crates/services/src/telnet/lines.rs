//! Lines out of Telnet data: what a client types, however its line ends and however the
//! network split or joined it.
//!
//! A line ends at `CR LF`, `CR NUL` (Telnet's bare carriage return), a lone `CR`, or a lone
//! `LF`; a `NUL` elsewhere is padding and dropped. A line longer than the cap keeps its
//! first `max` bytes; the rest is dropped and counted.

/// Splits a stream of data bytes into lines.
#[derive(Debug, Clone)]
pub struct Lines {
    line: Vec<u8>,
    max: usize,
    /// The last byte was a CR: a following LF or NUL belongs to it.
    after_cr: bool,
    /// Bytes dropped from lines over the cap.
    pub truncated: u64,
}

impl Lines {
    /// Lines of at most `max` bytes.
    pub fn new(max: usize) -> Lines {
        Lines {
            line: Vec::new(),
            max,
            after_cr: false,
            truncated: 0,
        }
    }

    /// Takes data bytes; each line they complete goes to `done`, without its line end.
    pub fn push(&mut self, data: &[u8], done: &mut Vec<Vec<u8>>) {
        for &b in data {
            if std::mem::take(&mut self.after_cr) && matches!(b, b'\n' | 0) {
                continue;
            }
            match b {
                b'\r' => {
                    self.after_cr = true;
                    done.push(std::mem::take(&mut self.line));
                }
                b'\n' => done.push(std::mem::take(&mut self.line)),
                0 => {}
                _ if self.line.len() < self.max => self.line.push(b),
                _ => self.truncated += 1,
            }
        }
    }

    /// The bytes of an unfinished line (what a client sent last, without an end).
    pub fn pending(&self) -> &[u8] {
        &self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Vec<u8>> {
        let mut l = Lines::new(16);
        let mut done = Vec::new();
        l.push(input, &mut done);
        done
    }

    #[test]
    fn every_line_end() {
        let got = lines(b"a\r\nb\r\0c\rd\ne\n\nf\0g\r");
        let want: [&[u8]; 7] = [b"a", b"b", b"c", b"d", b"e", b"", b"fg"];
        assert_eq!(got, want);
    }

    #[test]
    fn split_anywhere_gives_the_same_lines() {
        let input = b"enable\r\nsystem\r\0shell\nsh\r/bin/busybox MIRAI\r\n";
        let whole = lines(input);
        assert_eq!(whole.len(), 5);
        for cut in 0..input.len() {
            let mut l = Lines::new(16);
            let mut done = Vec::new();
            l.push(&input[..cut], &mut done);
            l.push(&input[cut..], &mut done);
            assert_eq!(done, whole, "split at {cut}");
        }
    }

    #[test]
    fn a_long_line_is_cut_and_counted() {
        let mut l = Lines::new(4);
        let mut done = Vec::new();
        l.push(b"abcdefgh\nxy", &mut done);
        assert_eq!(done, [b"abcd".to_vec()]);
        assert_eq!(l.truncated, 4);
        assert_eq!(l.pending(), b"xy");
    }
}
