//! Phase (c) across several worker processes (`--processes N`, issue 16): the bench starts
//! N − 1 copies of its own binary in worker-only mode beside the worker it runs itself, all
//! consuming the same RabbitMQ queue into the same Postgres database.
//!
//! A copy learns the database and the queue from the environment (`DATABASE_VAR`,
//! `PREFIX_VAR`; the AMQP URL from `TEST_AMQP_URL` as the parent does), so no URL is on a
//! command line, and runs `Worker::run` with the parent's `--workers` and `--batch` until its
//! stdin closes or it gets SIGTERM. On the way out it prints one `tally` line: its CPU (utime +
//! stime from its own `/proc/self/stat`, read as `Worker::run` starts and just before it exits,
//! so the drain and the start-up are apart), the statements its pools ran meanwhile
//! (`store::statements_run` counts per process) and its peak RSS.
//! The parent sums those lines into the phase's figures, and fails rather than print a figure
//! that misses a process.

use std::{
    io::{Read, Write},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clientsync::{clock::Clock, startup, store, worker::Worker};
use tokio_util::sync::CancellationToken;

/// The hidden flag that makes the bench binary a worker and nothing else.
pub const WORKER_ONLY: &str = "--worker-only";
/// The bench database's URL, handed to a copy through its environment.
const DATABASE_VAR: &str = "PIPELINE_BENCH_DATABASE_URL";
/// The parent's queue prefix, so a copy consumes the queue (b) filled.
const PREFIX_VAR: &str = "PIPELINE_BENCH_QUEUE_PREFIX";
/// How long a stopped copy may take to finish its in-flight batches and exit.
const STOP_GRACE: Duration = Duration::from_secs(60);

/// What one worker process spent, as it reported on its way out.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    /// Its process id, as it reported it.
    pub pid: u32,
    /// utime + stime before `Worker::run` started (runtime, database pool; the AMQP link opens
    /// inside the run), in seconds.
    pub starting_cpu_seconds: f64,
    /// utime + stime from `Worker::run`'s start to the exit, in seconds.
    pub cpu_seconds: f64,
    /// Statements its pools ran meanwhile (`store::statements_run`).
    pub statements: u64,
    /// Its peak resident memory, in MB.
    pub peak_rss_mb: u64,
}

impl Tally {
    /// The line a worker process prints last.
    fn line(&self) -> String {
        format!(
            "tally pid={} starting_cpu_seconds={} cpu_seconds={} statements={} peak_rss_mb={}",
            self.pid, self.starting_cpu_seconds, self.cpu_seconds, self.statements, self.peak_rss_mb
        )
    }

    /// Reads the `tally` line out of a worker process's output; `None` when it has none.
    fn parse(output: &str) -> Option<Self> {
        let line = output.lines().rev().find(|l| l.starts_with("tally "))?;
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
        };
        Some(Self {
            pid: field("pid")?.parse().ok()?,
            starting_cpu_seconds: field("starting_cpu_seconds")?.parse().ok()?,
            cpu_seconds: field("cpu_seconds")?.parse().ok()?,
            statements: field("statements")?.parse().ok()?,
            peak_rss_mb: field("peak_rss_mb")?.parse().ok()?,
        })
    }
}

/// Whether this run of the binary is a worker-only copy.
pub fn is_worker_only() -> bool {
    std::env::args().any(|a| a == WORKER_ONLY)
}

/// The worker processes the bench started beside its own worker. Dropping it closes their
/// stdin, so an early error in the parent (or its death) stops them too.
pub struct Copies {
    children: Vec<Child>,
}

impl Copies {
    /// Starts `count` worker-only copies of this binary on `database` and the queues named by
    /// `prefix`, each with `workers` consumers taking up to `batch` events per transaction.
    pub fn start(
        count: usize,
        workers: usize,
        batch: usize,
        database: &str,
        prefix: &str,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut children = Vec::with_capacity(count);
        for _ in 0..count {
            let child = Command::new(&exe)
                .arg(WORKER_ONLY)
                .args(["--workers", &workers.to_string(), "--batch", &batch.to_string()])
                .env(DATABASE_VAR, database)
                .env(PREFIX_VAR, prefix)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()?;
            children.push(child);
        }
        Ok(Self { children })
    }

    /// Closes every copy's stdin (its signal to stop), waits for each to exit and returns what
    /// each spent; an error when one fails, hangs or exits without its tally.
    pub async fn stop(self) -> anyhow::Result<Vec<Tally>> {
        let mut running = Vec::with_capacity(self.children.len());
        for mut child in self.children {
            drop(child.stdin.take());
            running.push(child);
        }
        let deadline = Instant::now() + STOP_GRACE;
        let mut tallies = Vec::with_capacity(running.len());
        for mut child in running {
            let pid = child.id();
            let status = loop {
                if let Some(status) = child.try_wait()? {
                    break status;
                }
                if Instant::now() > deadline {
                    child.kill()?;
                    child.wait()?;
                    anyhow::bail!("worker process {pid} did not stop within {STOP_GRACE:?}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            anyhow::ensure!(status.success(), "worker process {pid} exited with {status}");
            // It has exited: its one line is in the pipe and the read ends at once.
            let mut output = String::new();
            if let Some(mut stdout) = child.stdout.take() {
                stdout.read_to_string(&mut output)?;
            }
            let tally = Tally::parse(&output)
                .ok_or_else(|| anyhow::anyhow!("worker process {pid} exited without its tally line"))?;
            tallies.push(tally);
        }
        Ok(tallies)
    }
}

/// The worker-only mode: the same configuration as the parent's phase (c), `Worker::run` with
/// the same consumers and batch until stdin closes or SIGTERM, then the tally line.
pub async fn serve(workers: usize, batch: usize) -> anyhow::Result<()> {
    let database = std::env::var(DATABASE_VAR).map_err(|_| anyhow::anyhow!("{DATABASE_VAR} is not set"))?;
    let prefix = std::env::var(PREFIX_VAR).map_err(|_| anyhow::anyhow!("{PREFIX_VAR} is not set"))?;
    let mut config = super::postgres_config(database, workers)?;
    config.queue.prefix = prefix;
    // The parent migrated the database and declared the queues; this process only consumes.
    let db = startup::connect(&config).await?;
    let queue = startup::build_queue(&config, &db, &Clock::system()).await?;
    let stop = CancellationToken::new();
    stop_when_stdin_closes(stop.clone());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stopper = stop.clone();
    tokio::spawn(async move {
        terminate.recv().await;
        stopper.cancel();
    });
    let (started_cpu, started_statements) = (super::cpu_seconds("/proc/self/stat"), store::statements_run());
    Worker::new(db.clone(), queue)
        .run(workers, batch, Duration::from_millis(200), stop)
        .await;
    db.close().await?;
    let tally = Tally {
        pid: std::process::id(),
        starting_cpu_seconds: started_cpu,
        cpu_seconds: super::cpu_seconds("/proc/self/stat") - started_cpu,
        statements: store::statements_run().saturating_sub(started_statements),
        peak_rss_mb: super::rss_mb().1,
    };
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{}", tally.line()).and_then(|()| stdout.flush()) {
        // The parent is gone (it closed stdin by dying): nobody is left to tell.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => Ok(written?),
    }
}

/// Cancels `stop` when stdin reaches its end: the parent closed it, or the parent died.
/// A plain thread, so a read still blocked when SIGTERM stops the worker does not hold the
/// process open.
fn stop_when_stdin_closes(stop: CancellationToken) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        stop.cancel();
    });
}
