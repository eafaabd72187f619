//! Discard (RFC 863): reads what the client sends and drops it; closes when the client has
//! half-closed.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{within, Limits};

/// Reads `stream` to its end, keeping nothing.
pub async fn serve<S>(mut stream: S, limits: Limits) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = [0u8; 4096];
    while within(limits, stream.read(&mut buf)).await? > 0 {}
    within(limits, stream.shutdown()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_everything_sends_nothing() {
        let (mut client, server) = tokio::io::duplex(64);
        let task = tokio::spawn(serve(server, Limits::default()));
        client.write_all(&[1u8; 10_000]).await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert!(got.is_empty());
        task.await.unwrap().unwrap();
    }
}
