//! Opening inputs: plain, gzip or zstd, told apart by their first bytes, and which format
//! the content is in.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// How a file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or more members, as `logrotate` writes them).
    Gzip,
    /// Zstandard (one or more frames).
    Zstd,
}

/// What an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// A Honeyd packet log (`honeyd -l`).
    Honeyd,
    /// honeyscope's JSON lines.
    JsonLines,
    /// A pcap or pcapng packet capture.
    Capture,
}

impl InputFormat {
    /// A name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Honeyd => "honeyd log",
            InputFormat::JsonLines => "JSON lines",
            InputFormat::Capture => "packet capture",
        }
    }
}

const READ_BUF: usize = 1 << 20;

/// Which compression the first bytes announce.
pub fn sniff_compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Which format (already decompressed) content is in, from its first bytes: a capture's
/// magic number, a `{` opening the first line, or else a Honeyd log.
pub fn sniff_format(head: &[u8]) -> InputFormat {
    const CAPTURE_MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    if head.len() >= 4 && CAPTURE_MAGICS.iter().any(|m| head[..4] == *m) {
        return InputFormat::Capture;
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        InputFormat::JsonLines
    } else {
        InputFormat::Honeyd
    }
}

/// Wraps `reader` in the decompressor its first bytes call for.
pub fn decompress<R: Read + Send + 'static>(
    reader: R,
) -> io::Result<(Decompressed<R>, Compression)> {
    let mut buf = BufReader::with_capacity(READ_BUF, reader);
    let compression = sniff_compression(buf.fill_buf()?);
    let reader = match compression {
        Compression::None => Decompressed::Plain(buf),
        Compression::Gzip => Decompressed::Other(Box::new(BufReader::with_capacity(
            READ_BUF,
            flate2::bufread::MultiGzDecoder::new(buf),
        ))),
        Compression::Zstd => Decompressed::Other(Box::new(BufReader::with_capacity(
            READ_BUF,
            zstd::stream::read::Decoder::with_buffer(buf)?,
        ))),
    };
    Ok((reader, compression))
}

/// An input's content, decompressed, behind a read buffer.
pub enum Decompressed<R> {
    /// A plain input: the source itself.
    Plain(BufReader<R>),
    /// A decompressor over the source.
    Other(Box<dyn BufRead + Send>),
}

impl<R: Read + Send + 'static> Decompressed<R> {
    /// The content without the outer read buffer, for readers that take large blocks of
    /// their own: a plain input then reads straight from its source into those blocks
    /// instead of being copied through the buffer (the bytes the buffer already holds come
    /// first).
    pub fn into_unbuffered(self) -> Box<dyn Read + Send> {
        match self {
            Decompressed::Plain(buf) => {
                let held = buf.buffer().to_vec();
                Box::new(io::Cursor::new(held).chain(buf.into_inner()))
            }
            Decompressed::Other(r) => Box::new(r),
        }
    }
}

impl<R: Read> Read for Decompressed<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Decompressed::Plain(r) => r.read(out),
            Decompressed::Other(r) => r.read(out),
        }
    }
}

impl<R: Read> BufRead for Decompressed<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Decompressed::Plain(r) => r.fill_buf(),
            Decompressed::Other(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            Decompressed::Plain(r) => r.consume(n),
            Decompressed::Other(r) => r.consume(n),
        }
    }
}

/// Opens a file, decompressing as needed, and tells its format.
pub fn open(path: &Path) -> io::Result<(Box<dyn BufRead + Send>, Compression, InputFormat)> {
    let (mut reader, compression) = decompress(File::open(path)?)?;
    let format = sniff_format(reader.fill_buf()?);
    Ok((Box::new(reader), compression, format))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn compressed_inputs_read_the_same() {
        let text = b"2023-04-28-13:47:14.3718 honeyd log started ------\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&text[..], 3).unwrap();
        for (bytes, want) in [
            (text.to_vec(), Compression::None),
            (gz, Compression::Gzip),
            (zst, Compression::Zstd),
        ] {
            let (mut r, c) = decompress(io::Cursor::new(bytes)).unwrap();
            assert_eq!(c, want);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, text);
            assert_eq!(sniff_format(&out), InputFormat::Honeyd);
        }
        assert_eq!(sniff_format(b"\n{\"ts\":1}"), InputFormat::JsonLines);
        assert_eq!(
            sniff_format(&[0x0a, 0x0d, 0x0d, 0x0a, 0]),
            InputFormat::Capture
        );
    }
}
