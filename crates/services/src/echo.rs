//! Echo (RFC 862): everything the client sends comes back, in order, until it half-closes;
//! then the service finishes sending and closes its side too.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{within, Limits};

/// The chunk read and written back at a time. Small, because an idle session keeps it: the
/// transport buffers more than this on either side anyway.
const CHUNK: usize = 4096;

/// Echoes `stream` back to itself.
pub async fn serve<S>(mut stream: S, limits: Limits) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = within(limits, stream.read(&mut buf)).await?;
        if n == 0 {
            break;
        }
        within(limits, stream.write_all(&buf[..n])).await?;
    }
    within(limits, stream.shutdown()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sends_back_what_it_reads_then_closes() {
        let (mut client, server) = tokio::io::duplex(64);
        let task = tokio::spawn(serve(server, Limits::default()));
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7) as u8).collect();
        let (mut r, mut w) = tokio::io::split(&mut client);
        let send = async {
            w.write_all(&data).await.unwrap();
            w.shutdown().await.unwrap();
        };
        let mut got = Vec::new();
        let recv = r.read_to_end(&mut got);
        let ((), n) = tokio::join!(send, recv);
        assert_eq!(n.unwrap(), data.len());
        assert_eq!(got, data);
        task.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_times_out() {
        let (_client, server) = tokio::io::duplex(64);
        let limits = Limits {
            idle: std::time::Duration::from_secs(5),
        };
        let err = serve(server, limits).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
