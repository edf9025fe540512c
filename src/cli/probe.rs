//! `probe`: an HTTP health check for images without a shell or curl (Docker and Compose
//! health checks run it inside the container).

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use anyhow::{Context, bail};

/// Arguments of `probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Address of the service's HTTP port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Path to ask for: `/readyz` (database and queue answer) or `/healthz` (the process serves).
    #[arg(long, default_value = "/readyz")]
    pub path: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
}

/// Succeeds when `GET path` answers 200.
pub fn probe(args: &ProbeArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let mut stream = TcpStream::connect_timeout(&args.addr, timeout)
        .with_context(|| format!("connecting to {}", args.addr))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        args.path, args.addr
    )?;
    let mut head = [0u8; 32];
    let n = stream.read(&mut head).context("reading the answer")?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        bail!("{} answered {status:?}", args.path);
    }
    Ok(())
}
