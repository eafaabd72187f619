//! A TCP session as a service sees it: a tokio `AsyncRead + AsyncWrite` stream over the
//! session's sans-IO [`Connection`].
//!
//! The connection lives in a [`Shared`] cell that two sides lock in turn, as quinn's
//! streams share its connection state: the engine hands it segments and timers and sends
//! what it returns; the service's task reads what it received and queues what it writes.
//! The bytes are never copied between buffers on the way: the connection's own receive and
//! send buffers are the stream's.
//!
//! Each side wakes the other. The engine wakes the task when there is something to read,
//! room to write, or an end; the stream puts the session on the host's ready list
//! ([`crate::host::Ready`]) when the connection has something to send after the service
//! read (a window update) or wrote, and that wakes the packet loop.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::engine::FlowKey;
use crate::host::Ready;
use crate::tcp::{CloseReason, Connection};

/// One session's connection and the two sides' wake-ups.
pub(crate) struct Shared {
    state: Mutex<State>,
    key: FlowKey,
    ready: Arc<Ready>,
}

/// What [`Shared`] guards.
pub(crate) struct State {
    /// The TCP connection.
    pub conn: Connection,
    /// The client sent FIN: after what is buffered, reads end.
    pub peer_done: bool,
    /// The connection is over, and why.
    pub closed: Option<CloseReason>,
    /// The service's task dropped its stream.
    pub service_gone: bool,
    /// On the ready list already.
    queued: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

impl Shared {
    /// The cell for a new session's connection.
    pub fn new(conn: Connection, key: FlowKey, ready: Arc<Ready>) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State {
                conn,
                peer_done: false,
                closed: None,
                service_gone: false,
                queued: false,
                read_waker: None,
                write_waker: None,
            }),
            key,
            ready,
        })
    }

    /// The state, locked. A side that panicked while holding it left a connection that is
    /// still consistent between calls, so a poisoned lock is taken as it is.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts the session on the ready list, once until the engine takes it.
    fn notify(&self, st: &mut State) {
        if !st.queued {
            st.queued = true;
            self.ready.push(self.key);
        }
    }
}

impl State {
    /// Taken off the ready list by the engine.
    pub fn dequeued(&mut self) {
        self.queued = false;
    }

    /// The wakers of a task that has something to do now: data or an end to read, room
    /// or an end to write. The engine wakes them after unlocking.
    pub fn due_wakers(&mut self) -> [Option<Waker>; 2] {
        let over = self.closed.is_some();
        let read = self.conn.readable() > 0 || self.peer_done || over;
        let write = self.conn.send_room() > 0 || over;
        [
            if read { self.read_waker.take() } else { None },
            if write { self.write_waker.take() } else { None },
        ]
    }
}

/// The service's end of a session.
pub(crate) struct SessionStream(Arc<Shared>);

impl SessionStream {
    pub fn new(shared: Arc<Shared>) -> SessionStream {
        SessionStream(shared)
    }
}

fn ended(reason: CloseReason) -> io::Error {
    match reason {
        CloseReason::Normal => io::ErrorKind::NotConnected.into(),
        CloseReason::Reset => io::ErrorKind::ConnectionReset.into(),
        CloseReason::Aborted => io::ErrorKind::ConnectionAborted.into(),
        CloseReason::Retries | CloseReason::Idle | CloseReason::Lifetime => {
            io::ErrorKind::TimedOut.into()
        }
    }
}

impl AsyncRead for SessionStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let shared = &self.0;
        let mut st = shared.lock();
        if st.conn.readable() > 0 {
            let n = st.conn.read(buf.initialize_unfilled());
            buf.advance(n);
            // Reading may open a window the client is waiting on.
            if st.conn.wants_transmit() {
                shared.notify(&mut st);
            }
            return Poll::Ready(Ok(()));
        }
        match st.closed {
            Some(CloseReason::Normal) => Poll::Ready(Ok(())),
            Some(reason) => Poll::Ready(Err(ended(reason))),
            None if st.peer_done => Poll::Ready(Ok(())),
            None => {
                st.read_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for SessionStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let shared = &self.0;
        let mut st = shared.lock();
        if let Some(reason) = st.closed {
            return Poll::Ready(Err(match reason {
                CloseReason::Normal => io::ErrorKind::BrokenPipe.into(),
                other => ended(other),
            }));
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if st.conn.write_closed() {
            // A write after shutdown.
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let n = st.conn.write(data);
        if n > 0 {
            shared.notify(&mut st);
            return Poll::Ready(Ok(n));
        }
        st.write_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Written bytes are in the connection's send buffer, as a kernel socket's are.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shared = &self.0;
        let mut st = shared.lock();
        if st.closed.is_none() {
            st.conn.close();
            shared.notify(&mut st);
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for SessionStream {
    fn drop(&mut self) {
        let shared = &self.0;
        let mut st = shared.lock();
        st.service_gone = true;
        if st.closed.is_none() {
            // Unread data left behind gets a RST, as a kernel socket closed with unread
            // data does; otherwise an orderly FIN after what was written.
            if st.conn.readable() > 0 {
                st.conn.abort();
            } else {
                st.conn.close();
            }
        }
        shared.notify(&mut st);
    }
}
