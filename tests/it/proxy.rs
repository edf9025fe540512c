//! A TCP proxy the tests put in front of Postgres or RabbitMQ to take it away: `cut` (every
//! connection dropped, new ones closed at once: a server that is down), `freeze` (connections stay
//! open and nothing is forwarded: a hung server), then `thaw` (the held bytes go through) or
//! `restore` (new connections work; connections frozen before stay silent forever, as after a
//! failover: only timeouts and heartbeats get a client off them).

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::AbortHandle,
};

pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
}

struct Shared {
    open: AtomicBool,
    /// Whether links forward; a link follows the sender current when it was made.
    frozen: Mutex<watch::Sender<bool>>,
    /// Senders of earlier generations, kept so their frozen links stay frozen (not closed).
    abandoned: Mutex<Vec<watch::Sender<bool>>>,
    links: Mutex<Vec<AbortHandle>>,
}

impl Proxy {
    /// Listens on a free local port and forwards every connection to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared {
            open: AtomicBool::new(true),
            frozen: Mutex::new(watch::channel(false).0),
            abandoned: Mutex::default(),
            links: Mutex::default(),
        });
        let accepting = shared.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !accepting.open.load(Ordering::SeqCst) {
                    continue; // dropped at once: the server is down
                }
                let upstream = upstream.clone();
                let frozen = accepting.frozen.lock().unwrap().subscribe();
                let task = tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(upstream).await {
                        let (from_client, to_client) = inbound.split();
                        let (from_server, to_server) = outbound.into_split();
                        let _ = tokio::join!(
                            pump(from_client, to_server, frozen.clone()),
                            pump(from_server, to_client, frozen),
                        );
                    }
                });
                accepting.links.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { port, shared }
    }

    /// The port clients connect to instead of the server's.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let userinfo = authority
            .rsplit_once('@')
            .map(|(userinfo, _)| format!("{userinfo}@"))
            .unwrap_or_default();
        format!("{scheme}://{userinfo}127.0.0.1:{}{tail}", self.port)
    }

    /// The server goes down: every connection is dropped and new ones are closed at once.
    pub fn cut(&self) {
        self.shared.open.store(false, Ordering::SeqCst);
        for link in self.shared.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// The server hangs: connections, old and new, stay open and nothing is forwarded.
    pub fn freeze(&self) {
        self.shared.frozen.lock().unwrap().send_replace(true);
    }

    /// The hung server answers again: what was held goes through.
    pub fn thaw(&self) {
        self.shared.frozen.lock().unwrap().send_replace(false);
    }

    /// The server is back on fresh connections; connections frozen before stay frozen.
    pub fn restore(&self) {
        let fresh = watch::channel(false).0;
        let old = std::mem::replace(&mut *self.shared.frozen.lock().unwrap(), fresh);
        self.shared.abandoned.lock().unwrap().push(old);
        self.shared.open.store(true, Ordering::SeqCst);
    }
}

/// Forwards bytes until either side closes; while frozen, holds what it read.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.wait_for(|frozen| !*frozen).await.is_err() {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
