//! Where the services run: a single-threaded tokio runtime that the packet loop itself
//! drives ([`crate::source::drive`] runs inside it).
//!
//! The engine and the services take turns on one thread. After each batch of packets the
//! loop yields, the services' tasks run on what arrived, and the loop sends what they
//! wrote: no lock is contended and no thread is woken across cores, which on a small
//! machine is most of a session's cost. A session whose connection has something to send
//! after its service read or wrote goes on the [`Ready`] list, which also wakes the loop
//! when it waits. The `[[listen]]` entries' kernel sockets ([`crate::listen`]) are tasks on
//! the same runtime.
//!
//! Every task is tracked: the host knows how many are running (woken, not yet waiting
//! again on their stream, a timer or a socket). A capture replay lets them run until that
//! count is zero after each packet, so the replies to a recorded session come out the same
//! on every run.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use honeyscope_event::Event;
use honeyscope_services::http::service::HttpService;
use honeyscope_services::shell::Device;
use honeyscope_services::telnet::service::TelnetService;
use honeyscope_services::{Conn, ConnInfo, EventSink, Limits, Service};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::engine::FlowKey;

/// Sessions whose connection has something to send since their service read or wrote.
#[derive(Default)]
pub struct Ready {
    list: Mutex<Vec<FlowKey>>,
    /// Wakes the packet loop's wait.
    notify: tokio::sync::Notify,
}

impl Ready {
    /// Adds `key` and wakes the packet loop.
    pub(crate) fn push(&self, key: FlowKey) {
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(key);
        self.notify.notify_one();
    }

    /// Moves the list into `into` (empty on return).
    pub(crate) fn take(&self, into: &mut Vec<FlowKey>) {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::swap(&mut *list, into);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.lock().map_or(true, |l| l.is_empty())
    }

    /// Resolves once a session has been added since the last time it resolved.
    pub async fn notified(&self) {
        self.notify.notified().await
    }
}

/// What the host counted.
#[derive(Debug, Default)]
pub struct HostStats {
    /// Service tasks started (sessions and listener connections).
    pub tasks: AtomicU64,
    /// Services that ended with an error (the client reset, a timeout, …).
    pub errors: AtomicU64,
    /// Service events dropped because the inbox was full (the packet loop fell behind).
    pub events_dropped: AtomicU64,
}

/// The most service events waiting for the packet loop; past it they are dropped and
/// counted ([`HostStats::events_dropped`]).
pub const INBOX: usize = 1 << 16;

/// Threads for the services' blocking work (files written at a session's end).
const BLOCKING_THREADS: usize = 2;

/// The services' runtime. Cheap to clone; it stops when the last clone goes, dropping the
/// tasks still there (their sessions are ended by the engine first).
#[derive(Clone)]
pub struct ServiceHost {
    inner: Arc<Inner>,
}

struct Inner {
    rt: tokio::runtime::Runtime,
    ready: Arc<Ready>,
    running: Arc<AtomicUsize>,
    limits: Limits,
    stats: Arc<HostStats>,
    /// Events the services recorded, waiting for the packet loop to log them in order with
    /// its own.
    inbox: Arc<Mutex<Vec<Event>>>,
    telnet: Mutex<Option<Arc<TelnetService>>>,
    http: Mutex<Option<Arc<HttpService>>>,
}

impl ServiceHost {
    /// A runtime for services bound by `limits`. It runs only inside
    /// [`ServiceHost::block_on`]: the packet loop's thread.
    pub fn start(limits: Limits) -> io::Result<ServiceHost> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            // The services' file writing at a session's end (and name lookups) runs on
            // these threads; a few are enough, and a burst of closing sessions then queues
            // instead of starting hundreds of threads.
            .max_blocking_threads(BLOCKING_THREADS)
            .build()?;
        Ok(ServiceHost {
            inner: Arc::new(Inner {
                rt,
                ready: Arc::new(Ready::default()),
                running: Arc::new(AtomicUsize::new(0)),
                limits,
                stats: Arc::new(HostStats::default()),
                inbox: Arc::default(),
                telnet: Mutex::new(None),
                http: Mutex::new(None),
            }),
        })
    }

    /// Runs `f` on this thread, with the services' tasks running whenever it waits.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.inner.rt.block_on(f)
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
        self.inner.rt.handle()
    }

    /// Where services send their events: the host's inbox, which wakes the packet loop.
    pub fn events(&self) -> EventSink {
        let (inbox, stats, ready) = (
            self.inner.inbox.clone(),
            self.inner.stats.clone(),
            self.inner.ready.clone(),
        );
        Arc::new(move |ev| {
            let mut q = inbox.lock().unwrap_or_else(|e| e.into_inner());
            if q.len() < INBOX {
                q.push(ev);
                drop(q);
                ready.notify.notify_one();
            } else {
                stats.events_dropped.fetch_add(1, Ordering::Relaxed);
            }
        })
    }

    /// Moves the services' events into `into`.
    pub fn take_events(&self, into: &mut Vec<Event>) {
        let mut q = self.inner.inbox.lock().unwrap_or_else(|e| e.into_inner());
        into.append(&mut q);
    }

    /// Sets the Telnet service its connections share.
    pub fn set_telnet(&self, telnet: Arc<TelnetService>) {
        *self.inner.telnet.lock().unwrap_or_else(|e| e.into_inner()) = Some(telnet);
    }

    /// The Telnet service, once set.
    pub fn telnet(&self) -> Option<Arc<TelnetService>> {
        self.inner
            .telnet
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sets the HTTP service its connections share.
    pub fn set_http(&self, http: Arc<HttpService>) {
        *self.inner.http.lock().unwrap_or_else(|e| e.into_inner()) = Some(http);
    }

    /// The HTTP service, once set.
    pub fn http(&self) -> Option<Arc<HttpService>> {
        self.inner
            .http
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Runs `service` on `stream` (as `device`, for Telnet and HTTP), counting its end;
    /// `done` runs after it.
    pub(crate) fn serve<S>(
        &self,
        service: Service,
        stream: S,
        info: ConnInfo,
        device: Option<Arc<Device>>,
        done: impl FnOnce(&S) + Send + 'static,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let conn = Conn {
            info,
            limits: self.inner.limits,
            device,
            telnet: self.telnet(),
            http: self.http(),
        };
        let stats = self.inner.stats.clone();
        self.spawn(async move {
            let mut stream = stream;
            let r = service.serve(&mut stream, conn).await;
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
        self.inner.rt.spawn(Tracked {
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

    /// Lets the tasks run until every one waits, as a replay does.
    async fn settle(host: &ServiceHost) {
        for _ in 0..1000 {
            if host.running() == 0 {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("never settled");
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
        assert_eq!(host.running(), 1, "spawned, not yet run");
        host.block_on(settle(&host)); // waiting on the channel
        assert!(got.try_recv().is_err());
        tx.send(7).unwrap();
        assert_eq!(host.running(), 1, "woken");
        host.block_on(settle(&host)); // ended
        assert_eq!(got.try_recv().unwrap(), 7);
        assert_eq!(host.stats().tasks.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_ready_list_wakes_the_loop() {
        let host = ServiceHost::start(Limits::default()).unwrap();
        let ready = host.ready().clone();
        let key = (
            std::net::Ipv4Addr::LOCALHOST,
            1,
            std::net::Ipv4Addr::LOCALHOST,
            2,
        );
        ready.push(key);
        ready.push(key);
        // The permit is kept until the loop waits.
        host.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(5), ready.notified())
                .await
                .unwrap()
        });
        let mut got = Vec::new();
        ready.take(&mut got);
        assert_eq!(got, [key, key]);
        assert!(ready.is_empty());
    }
}
