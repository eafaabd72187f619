//! Where the services run: a tokio runtime on a thread of its own, beside the packet loop.
//!
//! The packet loop stays a plain blocking loop over its source; a service's task runs here
//! and talks to its session through a [`crate::stream::SessionStream`]. When a session has
//! something to send after its service read or wrote, it goes on the [`Ready`] list, whose
//! eventfd wakes the packet loop's wait. The `[[listen]]` entries' kernel sockets
//! ([`crate::listen`]) run on the same runtime.
//!
//! Every task is tracked: the host knows how many are running (not waiting on their
//! stream, a timer or a socket). A capture replay waits for that count to reach zero after
//! each packet ([`crate::Engine::settle`]), so the replies to a recorded session come out
//! the same on every run, whatever the threads' timing.

use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::JoinHandle;

use honeyscope_services::{ConnInfo, Limits, Service};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::engine::FlowKey;

/// Sessions whose connection has something to send since their service read or wrote,
/// and an eventfd that is readable while the list may be non-empty.
pub struct Ready {
    list: Mutex<Vec<FlowKey>>,
    fd: OwnedFd,
}

impl Ready {
    fn new() -> io::Result<Ready> {
        // SAFETY: eventfd takes no pointers; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Ready {
            list: Mutex::new(Vec::new()),
            // SAFETY: a descriptor we just opened and own.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Adds `key`; the first key on an empty list wakes the packet loop.
    pub(crate) fn push(&self, key: FlowKey) {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        list.push(key);
        if list.len() == 1 {
            let one = 1u64.to_ne_bytes();
            // SAFETY: writes 8 bytes from a live buffer. A full counter (it cannot be:
            // the loop reads it) would only mean the loop is already woken.
            unsafe { libc::write(self.fd.as_raw_fd(), one.as_ptr().cast(), one.len()) };
        }
    }

    /// Moves the list into `into` (empty on return but for what arrives meanwhile).
    pub(crate) fn take(&self, into: &mut Vec<FlowKey>) {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::swap(&mut *list, into);
    }

    fn is_empty(&self) -> bool {
        self.list.lock().map_or(true, |l| l.is_empty())
    }

    /// The descriptor a packet source waits on besides its own: readable when sessions
    /// are ready. Reading it ([`drain_wake`]) resets it.
    pub fn wake_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Resets a wake descriptor from [`Ready::wake_fd`] after it polled readable.
pub fn drain_wake(fd: RawFd) {
    let mut buf = [0u8; 8];
    // SAFETY: reads at most 8 bytes into a live buffer; non-blocking.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
}

/// What the host counted.
#[derive(Debug, Default)]
pub struct HostStats {
    /// Service tasks started (sessions and listener connections).
    pub tasks: AtomicU64,
    /// Services that ended with an error (the client reset, a timeout, …).
    pub errors: AtomicU64,
}

/// The services' runtime. Cheap to clone; the runtime stops when the last clone goes,
/// dropping the tasks still running (their sessions are ended by the engine first).
#[derive(Clone)]
pub struct ServiceHost {
    inner: Arc<Inner>,
}

struct Inner {
    handle: tokio::runtime::Handle,
    ready: Arc<Ready>,
    running: Arc<AtomicUsize>,
    limits: Limits,
    stats: Arc<HostStats>,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.lock().ok().and_then(|mut s| s.take()) {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl ServiceHost {
    /// Starts the runtime thread. `limits` bound every service.
    pub fn start(limits: Limits) -> io::Result<ServiceHost> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("services".into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        Ok(ServiceHost {
            inner: Arc::new(Inner {
                handle,
                ready: Arc::new(Ready::new()?),
                running: Arc::new(AtomicUsize::new(0)),
                limits,
                stats: Arc::new(HostStats::default()),
                stop: Mutex::new(Some(stop)),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// The ready list the sessions' streams report to.
    pub fn ready(&self) -> &Arc<Ready> {
        &self.inner.ready
    }

    /// The limits services run with.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// What the host counted.
    pub fn stats(&self) -> &HostStats {
        &self.inner.stats
    }

    /// The runtime, for the listeners.
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.inner.handle
    }

    /// Runs `service` on `stream`, counting its end; `done` runs after it.
    pub(crate) fn serve<S>(
        &self,
        service: Service,
        stream: S,
        info: ConnInfo,
        done: impl FnOnce(&S) + Send + 'static,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let limits = self.inner.limits;
        let stats = self.inner.stats.clone();
        self.spawn(async move {
            let mut stream = stream;
            let r = service.serve(&mut stream, info, limits).await;
            if r.is_err() {
                stats.errors.fetch_add(1, Ordering::Relaxed);
            }
            done(&stream);
        });
    }

    /// Spawns a tracked task.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.inner.stats.tasks.fetch_add(1, Ordering::Relaxed);
        self.inner.running.fetch_add(1, Ordering::AcqRel);
        let state = Arc::new(TaskState {
            phase: Mutex::new((Phase::Running, false)),
            running: self.inner.running.clone(),
        });
        self.inner.handle.spawn(Tracked {
            task: Box::pin(task),
            state,
            waker: None,
        });
    }

    /// Tasks running now (not waiting on their stream, a timer or a socket).
    pub fn running(&self) -> usize {
        self.inner.running.load(Ordering::Acquire)
    }

    /// Whether every task waits (on its stream, a timer, a socket) or has ended, and no
    /// session is on the ready list: nothing will happen until the packet loop acts.
    pub fn settled(&self) -> bool {
        self.inner.running.load(Ordering::Acquire) == 0 && self.inner.ready.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Being polled, or woken and waiting to be.
    Running,
    /// Its last poll returned pending and nothing woke it since.
    Parked,
    Done,
}

struct TaskState {
    /// The phase, and whether a wake came during the current poll.
    phase: Mutex<(Phase, bool)>,
    running: Arc<AtomicUsize>,
}

impl TaskState {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Phase, bool)> {
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn woken(&self) {
        let mut p = self.lock();
        match p.0 {
            Phase::Parked => {
                p.0 = Phase::Running;
                self.running.fetch_add(1, Ordering::AcqRel);
            }
            Phase::Running => p.1 = true,
            Phase::Done => {}
        }
    }

    fn begin_poll(&self) {
        let mut p = self.lock();
        if p.0 == Phase::Parked {
            // Polled without a wake of ours (the runtime may).
            self.running.fetch_add(1, Ordering::AcqRel);
        }
        *p = (Phase::Running, false);
    }

    fn end_poll(&self, finished: bool) {
        let mut p = self.lock();
        if finished {
            p.0 = Phase::Done;
            self.running.fetch_sub(1, Ordering::AcqRel);
        } else if !p.1 {
            // Not woken meanwhile: it waits.
            p.0 = Phase::Parked;
            self.running.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

struct TaskWaker {
    state: Arc<TaskState>,
    inner: Waker,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.state.woken();
        self.inner.wake_by_ref();
    }
}

/// A task whose waits the host counts.
struct Tracked {
    task: Pin<Box<dyn Future<Output = ()> + Send>>,
    state: Arc<TaskState>,
    /// Our waker around the runtime's, kept while the runtime's stays the same.
    waker: Option<(Waker, Waker)>,
}

impl Future for Tracked {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.state.begin_poll();
        let fresh = match &this.waker {
            Some((runtime, _)) => !runtime.will_wake(cx.waker()),
            None => true,
        };
        if fresh {
            let ours = Waker::from(Arc::new(TaskWaker {
                state: this.state.clone(),
                inner: cx.waker().clone(),
            }));
            this.waker = Some((cx.waker().clone(), ours));
        }
        let Some((_, waker)) = &this.waker else {
            unreachable!("set above")
        };
        let r = this.task.as_mut().poll(&mut Context::from_waker(waker));
        this.state.end_poll(r.is_ready());
        r
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // Dropped unfinished (the runtime stopping): no longer running.
        let mut p = self.state.lock();
        if p.0 == Phase::Running {
            self.state.running.fetch_sub(1, Ordering::AcqRel);
        }
        p.0 = Phase::Done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait_settled(host: &ServiceHost) {
        let t = Instant::now();
        while !host.settled() {
            assert!(t.elapsed() < Duration::from_secs(5), "never settled");
            std::thread::yield_now();
        }
    }

    #[test]
    fn counts_tasks_that_wait_and_that_end() {
        let host = ServiceHost::start(Limits::default()).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let (back, got) = std::sync::mpsc::channel();
        host.spawn(async move {
            let v = rx.await.unwrap_or(0);
            back.send(v).unwrap();
        });
        wait_settled(&host); // waiting on the channel
        tx.send(7).unwrap();
        assert_eq!(got.recv_timeout(Duration::from_secs(5)).unwrap(), 7);
        wait_settled(&host); // ended
        assert_eq!(host.stats().tasks.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_ready_list_wakes_its_descriptor() {
        let ready = Ready::new().unwrap();
        let key = (
            std::net::Ipv4Addr::LOCALHOST,
            1,
            std::net::Ipv4Addr::LOCALHOST,
            2,
        );
        assert!(!crate::sys::wait_readable(ready.wake_fd(), Duration::ZERO).unwrap());
        ready.push(key);
        ready.push(key);
        assert!(crate::sys::wait_readable(ready.wake_fd(), Duration::ZERO).unwrap());
        drain_wake(ready.wake_fd());
        assert!(!crate::sys::wait_readable(ready.wake_fd(), Duration::ZERO).unwrap());
        let mut got = Vec::new();
        ready.take(&mut got);
        assert_eq!(got, [key, key]);
        assert!(ready.is_empty());
    }
}
