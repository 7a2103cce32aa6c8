//! A fault-injecting TCP proxy on loopback, put between the provider and one backend
//! endpoint so a test can break the network at the moment it chooses: refuse or drop new
//! connections, reset the open ones, slow every chunk down, swallow traffic, or reset every
//! k-th new connection. It counts what passes, and shuts down when dropped.
//!
//! The proxy runs on its own small tokio runtime; the test thread (or a trigger firing inside
//! another proxy) steers it through a cloneable, thread-safe [`ProxyHandle`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward both ways.
    PassThrough,
    /// Accept new connections, then close them at once, before reading anything.
    CloseOnAccept,
    /// Stop listening: new connections are refused by the kernel (`ECONNREFUSED`).
    Refuse,
    /// Accept and read, never forward and never answer; open pipes swallow what they read.
    BlackHole,
    /// Reset (RST) every `every`-th new connection before forwarding anything; pass the others.
    Flaky {
        /// Which connections are reset: the accepted ones whose count divides by this.
        every: u64,
    },
}

/// What went through the proxy so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted (in any mode).
    pub accepted: u64,
    /// Connections forwarded to the target.
    pub forwarded: u64,
    /// Connections closed at once ([`Mode::CloseOnAccept`]).
    pub closed_on_accept: u64,
    /// Connections reset by the proxy: [`Mode::Flaky`] and [`ProxyHandle::reset_open`].
    pub reset: u64,
    /// Connections held in [`Mode::BlackHole`].
    pub black_holed: u64,
    /// Bytes from clients to the target.
    pub bytes_up: u64,
    /// Bytes from the target to clients.
    pub bytes_down: u64,
    /// Connections open right now.
    pub open: u64,
}

/// A fault-injecting proxy to one target; shuts down on drop.
pub struct Proxy {
    handle: ProxyHandle,
    rt: Option<tokio::runtime::Runtime>,
}

/// Steers a [`Proxy`] from any thread; clones steer the same proxy.
#[derive(Clone)]
pub struct ProxyHandle {
    shared: Arc<Shared>,
}

type Action = Box<dyn FnOnce() + Send>;

struct Shared {
    addr: SocketAddr,
    target: SocketAddr,
    /// The mode and its generation; the accept loop acknowledges generations in `applied`.
    mode: Mutex<(Mode, u64)>,
    applied: Mutex<u64>,
    applied_cv: Condvar,
    changed: Notify,
    latency: Mutex<Duration>,
    /// Open connections, each with the token that resets it.
    open: Mutex<HashMap<u64, CancellationToken>>,
    next_id: AtomicU64,
    /// One-shot actions fired when a pattern first appears in client-to-target bytes.
    triggers: Mutex<Vec<(Vec<u8>, Action)>>,
    /// The first line of every HTTP request forwarded, in order.
    requests: Mutex<Vec<String>>,
    stats: Counters,
    shutdown: CancellationToken,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    forwarded: AtomicU64,
    closed_on_accept: AtomicU64,
    reset: AtomicU64,
    black_holed: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
}

/// Locks, shrugging off poisoning: a panicking test thread must not wedge the proxy.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Proxy {
    /// A pass-through proxy on `127.0.0.1:<free port>` to `target`.
    pub fn start(target: SocketAddr) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fault-proxy")
            .enable_all()
            .build()
            .expect("proxy runtime");
        let listener = rt.block_on(bind(SocketAddr::from(([127, 0, 0, 1], 0)))).expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            addr,
            target,
            mode: Mutex::new((Mode::PassThrough, 0)),
            applied: Mutex::new(0),
            applied_cv: Condvar::new(),
            changed: Notify::new(),
            latency: Mutex::new(Duration::ZERO),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            triggers: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            stats: Counters::default(),
            shutdown: CancellationToken::new(),
        });
        rt.spawn(accept_loop(shared.clone(), listener));
        Self { handle: ProxyHandle { shared }, rt: Some(rt) }
    }

    /// A proxy to `target` given as `host:port` or `http://host:port` (a resolvable address).
    pub fn to(target: &str) -> Self {
        let hostport = target.trim_start_matches("http://").trim_end_matches('/');
        let addr = std::net::ToSocketAddrs::to_socket_addrs(hostport)
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("cannot resolve the proxy target {target:?}"));
        Self::start(addr)
    }

    /// A handle for another thread or a trigger.
    pub fn handle(&self) -> ProxyHandle {
        self.handle.clone()
    }
}

impl std::ops::Deref for Proxy {
    type Target = ProxyHandle;
    fn deref(&self) -> &ProxyHandle {
        &self.handle
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Every connection's token is a child of this one: open pipes end with it.
        self.handle.shared.shutdown.cancel();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

impl ProxyHandle {
    /// Where clients connect: `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// Where the proxy forwards to.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        lock(&self.shared.mode).0
    }

    /// Switches mode for new connections (and, for [`Mode::BlackHole`], for what open pipes
    /// read from now on). Returns once the listener is closed or open as the mode says.
    pub fn set_mode(&self, mode: Mode) {
        let generation = {
            let mut m = lock(&self.shared.mode);
            m.1 += 1;
            m.0 = mode;
            m.1
        };
        self.shared.changed.notify_one();
        // Bounded: a trigger may call this from a proxy thread, and a dropped proxy never acks.
        let applied = lock(&self.shared.applied);
        let _ = self.shared.applied_cv.wait_timeout_while(applied, Duration::from_secs(5), |a| *a < generation);
    }

    /// Delays every chunk, both ways, by `per_chunk` (zero: no delay).
    pub fn set_latency(&self, per_chunk: Duration) {
        *lock(&self.shared.latency) = per_chunk;
    }

    /// Resets (RST) every open connection; returns how many there were.
    pub fn reset_open(&self) -> usize {
        let open = lock(&self.shared.open);
        for token in open.values() {
            token.cancel();
        }
        open.len()
    }

    /// The backend is gone: new connections are refused and open ones reset.
    pub fn down(&self) {
        self.set_mode(Mode::Refuse);
        self.reset_open();
    }

    /// Back to normal: pass-through, no latency, no pending triggers.
    pub fn heal(&self) {
        lock(&self.shared.triggers).clear();
        self.set_latency(Duration::ZERO);
        self.set_mode(Mode::PassThrough);
    }

    /// Runs `action` once, on a proxy thread, when `pattern` first appears in the bytes a
    /// client sends, before those bytes are forwarded.
    pub fn on_request(&self, pattern: &[u8], action: impl FnOnce() + Send + 'static) {
        assert!(!pattern.is_empty(), "an empty pattern would fire at once");
        lock(&self.shared.triggers).push((pattern.to_vec(), Box::new(action)));
    }

    /// Whether triggers are still waiting for their pattern.
    pub fn triggers_pending(&self) -> usize {
        lock(&self.shared.triggers).len()
    }

    /// The request line (`PUT /bucket HTTP/1.1`) of every HTTP request forwarded so far.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.requests).clone()
    }

    /// What went through so far.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.stats;
        Stats {
            accepted: c.accepted.load(Ordering::SeqCst),
            forwarded: c.forwarded.load(Ordering::SeqCst),
            closed_on_accept: c.closed_on_accept.load(Ordering::SeqCst),
            reset: c.reset.load(Ordering::SeqCst),
            black_holed: c.black_holed.load(Ordering::SeqCst),
            bytes_up: c.bytes_up.load(Ordering::SeqCst),
            bytes_down: c.bytes_down.load(Ordering::SeqCst),
            open: lock(&self.shared.open).len() as u64,
        }
    }
}

impl Shared {
    fn ack(&self, generation: u64) {
        *lock(&self.applied) = generation;
        self.applied_cv.notify_all();
    }

    fn register(&self) -> (u64, CancellationToken) {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let token = self.shutdown.child_token();
        lock(&self.open).insert(id, token.clone());
        (id, token)
    }

    fn unregister(&self, id: u64) {
        lock(&self.open).remove(&id);
    }

    /// Fires the triggers whose pattern is in `window`.
    fn fire(&self, window: &[u8]) {
        let fired: Vec<Action> = {
            let mut triggers = lock(&self.triggers);
            if triggers.is_empty() {
                return;
            }
            let (hit, keep): (Vec<_>, Vec<_>) =
                triggers.drain(..).partition(|(p, _)| window.windows(p.len()).any(|w| w == p.as_slice()));
            *triggers = keep;
            hit.into_iter().map(|(_, a)| a).collect()
        };
        for action in fired {
            action();
        }
    }

    /// Keeps the request line when a chunk starts an HTTP request (heuristic, for reports).
    fn note_request(&self, chunk: &[u8]) {
        const METHODS: [&[u8]; 5] = [b"GET ", b"PUT ", b"POST ", b"HEAD ", b"DELETE "];
        if METHODS.iter().any(|m| chunk.starts_with(m)) {
            let line = chunk.split(|b| *b == b'\r' || *b == b'\n').next().unwrap_or_default();
            lock(&self.requests).push(String::from_utf8_lossy(&line[..line.len().min(300)]).into_owned());
        }
    }

    fn longest_pattern(&self) -> usize {
        lock(&self.triggers).iter().map(|(p, _)| p.len()).max().unwrap_or(0)
    }
}

async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // The port is bound again after `Mode::Refuse`; connections in TIME_WAIT must not block it.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut listener = Some(listener);
    loop {
        let (mode, generation) = *lock(&shared.mode);
        match (mode, listener.is_some()) {
            (Mode::Refuse, true) => listener = None,
            (m, false) if m != Mode::Refuse => {
                // Someone may hold the port for a moment; keep trying rather than give up.
                let mut tries = 0;
                while listener.is_none() {
                    match bind(shared.addr).await {
                        Ok(l) => listener = Some(l),
                        Err(e) => {
                            tries += 1;
                            if tries % 50 == 0 {
                                eprintln!("fault proxy {}: cannot listen again: {e}", shared.addr);
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            }
            _ => {}
        }
        shared.ack(generation);
        match &listener {
            None => tokio::select! {
                _ = shared.shutdown.cancelled() => return,
                _ = shared.changed.notified() => {}
            },
            Some(l) => tokio::select! {
                _ = shared.shutdown.cancelled() => return,
                _ = shared.changed.notified() => {}
                accepted = l.accept() => match accepted {
                    Ok((stream, _)) => on_accept(&shared, stream),
                    Err(e) => {
                        eprintln!("fault proxy {}: accept failed: {e}", shared.addr);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                },
            },
        }
    }
}

fn on_accept(shared: &Arc<Shared>, stream: TcpStream) {
    let n = shared.stats.accepted.fetch_add(1, Ordering::SeqCst) + 1;
    let _ = stream.set_nodelay(true);
    match lock(&shared.mode).0 {
        // Raced with the switch to Refuse: the connection is turned away all the same.
        Mode::CloseOnAccept | Mode::Refuse => {
            shared.stats.closed_on_accept.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
        Mode::Flaky { every } if every > 0 && n.is_multiple_of(every) => {
            shared.stats.reset.fetch_add(1, Ordering::SeqCst);
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Mode::BlackHole => {
            shared.stats.black_holed.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(black_hole(shared.clone(), stream));
        }
        Mode::PassThrough | Mode::Flaky { .. } => {
            tokio::spawn(pipe(shared.clone(), stream));
        }
    }
}

async fn black_hole(shared: Arc<Shared>, mut stream: TcpStream) {
    let (id, token) = shared.register();
    let mut buf = vec![0u8; 16 * 1024];
    let reset = loop {
        tokio::select! {
            _ = token.cancelled() => break true,
            r = stream.read(&mut buf) => match r {
                Ok(0) | Err(_) => break false,
                Ok(_) => {}
            },
        }
    };
    if reset {
        shared.stats.reset.fetch_add(1, Ordering::SeqCst);
        let _ = stream.set_zero_linger();
    }
    shared.unregister(id);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

async fn pipe(shared: Arc<Shared>, mut client: TcpStream) {
    let (id, token) = shared.register();
    let mut upstream = match TcpStream::connect(shared.target).await {
        Ok(u) => u,
        Err(e) => {
            eprintln!("fault proxy {}: cannot reach {}: {e}", shared.addr, shared.target);
            let _ = client.set_zero_linger();
            shared.unregister(id);
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    shared.stats.forwarded.fetch_add(1, Ordering::SeqCst);
    let reset = {
        let (mut cr, mut cw) = client.split();
        let (mut ur, mut uw) = upstream.split();
        let both = async {
            tokio::try_join!(
                forward(&shared, &mut cr, &mut uw, Direction::Up),
                forward(&shared, &mut ur, &mut cw, Direction::Down),
            )
        };
        tokio::select! {
            _ = token.cancelled() => {
                shared.stats.reset.fetch_add(1, Ordering::SeqCst);
                true
            }
            // A reset on one side is passed on as a reset to the other.
            r = both => r.is_err(),
        }
    };
    if reset {
        let _ = client.set_zero_linger();
        let _ = upstream.set_zero_linger();
    }
    shared.unregister(id);
}

async fn forward<R, W>(shared: &Shared, from: &mut R, to: &mut W, dir: Direction) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    // The tail of the previous chunk, so a trigger pattern split across reads still matches.
    let mut window: Vec<u8> = Vec::new();
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        let latency = *lock(&shared.latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if lock(&shared.mode).0 == Mode::BlackHole {
            continue;
        }
        if dir == Direction::Up {
            shared.note_request(&buf[..n]);
            let keep = shared.longest_pattern();
            if keep > 0 {
                window.extend_from_slice(&buf[..n]);
                shared.fire(&window);
                let cut = window.len().saturating_sub(keep.saturating_sub(1));
                window.drain(..cut);
            }
        }
        to.write_all(&buf[..n]).await?;
        let counter = if dir == Direction::Up { &shared.stats.bytes_up } else { &shared.stats.bytes_down };
        counter.fetch_add(n as u64, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{ErrorKind, Read, Write};
    use std::net::{TcpListener as StdListener, TcpStream as StdStream};
    use std::time::Instant;

    /// An echo server on its own thread; answers each read with the same bytes.
    fn echo_server() -> SocketAddr {
        let l = StdListener::bind("127.0.0.1:0").expect("bind echo");
        let addr = l.local_addr().expect("echo addr");
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 || s.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn connect(p: &ProxyHandle) -> StdStream {
        let s = StdStream::connect(p.addr()).expect("connect to proxy");
        s.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
        s
    }

    /// Sends `msg` and reads the echo; the error kind when that fails.
    fn echo(s: &mut StdStream, msg: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        s.write_all(msg).map_err(|e| e.kind())?;
        let mut got = vec![0u8; msg.len()];
        s.read_exact(&mut got).map_err(|e| e.kind())?;
        Ok(got)
    }

    #[test]
    fn fault_proxy_passes_through_refuses_resets_and_recovers() {
        let proxy = Proxy::start(echo_server());
        let mut s = connect(&proxy);
        assert_eq!(echo(&mut s, b"hello").as_deref(), Ok(&b"hello"[..]));

        // Refuse: the kernel turns new connections away; the open one still works.
        proxy.set_mode(Mode::Refuse);
        let refused = StdStream::connect(proxy.addr()).map(|_| ()).map_err(|e| e.kind());
        assert_eq!(refused, Err(ErrorKind::ConnectionRefused));
        assert_eq!(echo(&mut s, b"still").as_deref(), Ok(&b"still"[..]));

        // Reset the open one: the client sees it fail.
        assert_eq!(proxy.reset_open(), 1);
        std::thread::sleep(Duration::from_millis(100));
        assert!(echo(&mut s, b"gone").is_err(), "a reset connection must not answer");

        // Heal: the same address works again.
        proxy.heal();
        let mut s = connect(&proxy);
        assert_eq!(echo(&mut s, b"back").as_deref(), Ok(&b"back"[..]));

        // Close on accept: connected, then closed before any answer.
        proxy.set_mode(Mode::CloseOnAccept);
        let mut c = connect(&proxy);
        assert!(echo(&mut c, b"x").is_err(), "closed on accept must not answer");
        proxy.heal();

        // The proxy counts a chunk just after writing it: give the last count a moment to land.
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let mut st = proxy.stats();
        while st.bytes_down != st.bytes_up && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            st = proxy.stats();
        }
        assert_eq!(st.forwarded, 2, "{st:?}");
        assert_eq!(st.closed_on_accept, 1, "{st:?}");
        assert_eq!(st.reset, 1, "{st:?}");
        assert_eq!(st.bytes_up, 5 + 5 + 4, "{st:?}");
        assert_eq!(st.bytes_down, st.bytes_up, "{st:?}");
    }

    #[test]
    fn fault_proxy_flaky_resets_every_kth_connection_and_black_hole_never_answers() {
        let proxy = Proxy::start(echo_server());
        proxy.set_mode(Mode::Flaky { every: 3 });
        let outcomes: Vec<bool> = (0..9).map(|_| echo(&mut connect(&proxy), b"ping").is_ok()).collect();
        assert_eq!(outcomes, [true, true, false, true, true, false, true, true, false]);
        assert_eq!(proxy.stats().reset, 3);

        proxy.set_mode(Mode::BlackHole);
        let mut s = connect(&proxy);
        s.set_read_timeout(Some(Duration::from_millis(300))).expect("timeout");
        let e = echo(&mut s, b"anyone?").err();
        assert!(matches!(e, Some(ErrorKind::WouldBlock | ErrorKind::TimedOut)), "{e:?}");
        assert_eq!(proxy.stats().black_holed, 1);
        assert_eq!(proxy.reset_open(), 1, "the black-holed connection is open until reset");
    }

    #[test]
    fn fault_proxy_adds_latency_and_fires_triggers_once() {
        let proxy = Proxy::start(echo_server());
        let fired = Arc::new(AtomicU64::new(0));
        let f = fired.clone();
        let other = Proxy::start(echo_server());
        let other_handle = other.handle();
        proxy.on_request(b"CUT", move || {
            f.fetch_add(1, Ordering::SeqCst);
            other_handle.down();
        });
        let mut s = connect(&proxy);
        // The pattern split across two writes still fires.
        assert!(echo(&mut s, b"xxC").is_ok());
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        assert!(echo(&mut s, b"UTyy").is_ok());
        assert!(echo(&mut s, b"CUT").is_ok());
        assert_eq!(fired.load(Ordering::SeqCst), 1, "a trigger fires once");
        assert_eq!(other.mode(), Mode::Refuse);
        assert_eq!(proxy.triggers_pending(), 0);

        proxy.set_latency(Duration::from_millis(200));
        let started = Instant::now();
        assert!(echo(&mut s, b"slow").is_ok());
        // One chunk each way.
        assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
    }
}
