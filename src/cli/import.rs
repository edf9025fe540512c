//! `import`: load a HubSpot or ClickUp export, or any CSV, through the reconcile path, with a
//! progress bar and running statistics; `imports list|show` read the stored runs afterwards.

use std::{
    io::IsTerminal,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{backfill::cancel_on_signal, clients::as_json};
use crate::{
    config::Config,
    domain::source::Source,
    import::{
        self, Apply, Encoding, ImportJob, ImportSource, Mapping, Progress, ReadAs, Summary, stats::figures,
    },
    lookup::imports::{self as runs, ImportRunView},
    store,
};

/// What kind of file `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    /// A HubSpot contacts export (`Record ID`, `First Name`, `Email`…).
    Hubspot,
    /// A ClickUp list export (`Task ID`, `Task Name`, custom fields by name).
    Clickup,
    /// Any CSV: common header names or a --mapping file; needs --as.
    Csv,
}

/// Whose records the rows of a `--source csv` file become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OwnerArg {
    /// HubSpot contacts: their values win over ClickUp's.
    Hubspot,
    /// ClickUp tasks: they fill what HubSpot leaves empty.
    Clickup,
}

/// The text encoding `import` reads FILE in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EncodingArg {
    /// UTF-8, or Windows-1252 when the file is not UTF-8 and holds no UTF-8 beyond ASCII.
    Auto,
    /// UTF-8: a row that is not is refused by its line.
    #[value(name = "utf-8")]
    Utf8,
    /// Windows-1252 (Latin-1 as Windows writes it), as older Spanish Excel exports are.
    #[value(name = "windows-1252")]
    Windows1252,
}

/// Arguments of `import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    clientsync import --source hubspot contacts.csv --stat amount\n  \
    clientsync import --source csv --as clickup clientes.csv --mapping columnas.txt --batch 1000\n  \
    clientsync import --source clickup tasks.csv --dry-run\n\n\
    A mapping file has one `field = Header` per line (`id = Header` for the record id; fields: \
    email, document_key, phone, given_name, family_name, name, company, date_of_birth, street, \
    city, postcode, region…). Refused rows go to FILE.rejected.csv with their line and reason. \
    Stopped part-way (Ctrl-C, a crash), the same command resumes after the last committed \
    batch; importing the same file again creates nothing new.")]
pub struct ImportArgs {
    /// What kind of export FILE is.
    #[arg(long, value_enum)]
    pub source: SourceArg,
    /// For `--source csv`: whose records the rows become.
    #[arg(long = "as", value_enum, value_name = "SOURCE")]
    pub owner: Option<OwnerArg>,
    /// The export (comma, semicolon or tab separated; UTF-8 with or without a BOM, or Windows-1252).
    pub file: PathBuf,
    /// Its text encoding; `auto` reads a file that is not UTF-8 as Windows-1252.
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
    pub encoding: EncodingArg,
    /// File naming columns: `field = Header` lines, `id = Header` for the record id.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Rows per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,
    /// Validate and write the rejected file only; the database is not touched.
    #[arg(long)]
    pub dry_run: bool,
    /// A numeric column to report min, mean and max of (repeat for more).
    #[arg(long = "stat", value_name = "COLUMN")]
    pub stats: Vec<String>,
    /// No progress bar or running statistics; only the summary.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `imports`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  clientsync imports list --limit 5\n  \
    clientsync imports show 0193a1b2-… --json")]
pub struct ImportsArgs {
    /// Print JSON (as the operator API answers) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: ImportsCommand,
}

/// `imports` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ImportsCommand {
    /// Import runs, newest first.
    List {
        /// Most runs (1–500).
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
    /// One run: counters, column statistics and where it stands.
    Show {
        /// The run id.
        id: Uuid,
    },
}

impl ImportArgs {
    fn job(&self) -> anyhow::Result<ImportJob> {
        let source = match (self.source, self.owner) {
            (SourceArg::Hubspot, None) => ImportSource::HubSpot,
            (SourceArg::Clickup, None) => ImportSource::ClickUp,
            (SourceArg::Csv, Some(OwnerArg::Hubspot)) => ImportSource::Csv(Source::HubSpot),
            (SourceArg::Csv, Some(OwnerArg::Clickup)) => ImportSource::Csv(Source::ClickUp),
            (SourceArg::Csv, None) => anyhow::bail!(
                "--source csv needs --as hubspot or --as clickup: whose records the rows become \
                 (HubSpot's values win over ClickUp's)"
            ),
            (_, Some(_)) => anyhow::bail!("--as is only for --source csv"),
        };
        let mapping = match &self.mapping {
            Some(path) => Mapping::read(path)?,
            None => Mapping::default(),
        };
        Ok(ImportJob {
            file: self.file.clone(),
            source,
            mapping,
            batch: usize::try_from(self.batch).unwrap_or(usize::MAX),
            stats: self.stats.clone(),
            apply: Apply::InBulk,
            encoding: match self.encoding {
                EncodingArg::Auto => Encoding::Auto,
                EncodingArg::Utf8 => Encoding::Utf8,
                EncodingArg::Windows1252 => Encoding::Windows1252,
            },
        })
    }
}

/// Runs `import`: a progress bar with running statistics on a terminal, a statistics line every
/// few seconds otherwise, the summary at the end. Ctrl-C stops after the batch in hand.
pub async fn import(config: &Config, args: &ImportArgs) -> anyhow::Result<()> {
    let job = args.job()?;
    let matching = config.matching.matching()?;
    let mut report = Reporter::new(args.quiet);
    let summary = if args.dry_run {
        import::dry_run(&job, matching.country, &mut |p| report.batch(p))?
    } else {
        let db = store::connect(&config.database)
            .await
            .context("connecting to the database")?;
        store::migrate(&db).await.context("running migrations")?;
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        import::import(&db, &matching, &job, &shutdown, &mut |p| report.batch(p)).await?
    };
    report.bar.finish_and_clear();
    for line in summary_lines(&summary, args.dry_run) {
        println!("{line}");
    }
    Ok(())
}

/// Shows progress as batches commit.
struct Reporter {
    bar: ProgressBar,
    lines: bool,
    last: Instant,
}

impl Reporter {
    fn new(quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = if quiet || !terminal {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        } else {
            ProgressBar::new(0)
        };
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {percent:>3}% {elapsed} eta {eta}\n{msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self {
            bar,
            lines: !quiet && !terminal,
            last: Instant::now(),
        }
    }

    fn batch(&mut self, p: Progress<'_>) {
        self.bar.set_length(p.bytes);
        self.bar.set_position(p.offset);
        self.bar.set_message(p.stats.line());
        if self.lines && self.last.elapsed() >= Duration::from_secs(2) {
            eprintln!("{}", p.stats.line());
            self.last = Instant::now();
        }
    }
}

fn summary_lines(summary: &Summary, dry_run: bool) -> Vec<String> {
    let c = &summary.stats.counters;
    let mut lines = Vec::new();
    match (summary.run, dry_run) {
        (_, true) => lines.push("dry run: nothing was written to the database".to_owned()),
        (Some(run), false) => lines.push(format!(
            "import run {run}{}",
            if summary.resumed { " (resumed)" } else { "" }
        )),
        (None, false) => {}
    }
    if summary.read_as == ReadAs::Windows1252 {
        lines.push("read as Windows-1252 (the file is not UTF-8)".to_owned());
    }
    lines.push(format!(
        "rows: {} read, {} {}, {} rejected",
        c.rows_read,
        c.rows_loaded,
        if dry_run { "valid" } else { "loaded" },
        c.rows_rejected
    ));
    if !dry_run {
        lines.push(format!(
            "clients: {} new, {} linked, {} conflicts, {} unchanged",
            c.new_clients, c.linked, c.conflicts, c.unchanged
        ));
    }
    for (name, s) in &summary.stats.columns {
        lines.push(format!(
            "{name}: min/mean/max {} over {} rows ({} not numeric)",
            figures(s),
            s.count,
            s.not_numeric
        ));
    }
    if let Some(path) = &summary.rejected_file {
        lines.push(format!("rejected rows: {}", path.display()));
    }
    lines.push(format!(
        "{:.1} s ({:.0} rows/s)",
        summary.seconds,
        c.rows_read as f64 / summary.seconds.max(0.001)
    ));
    lines
}

/// Runs `imports` against the configured store and prints the answer.
pub async fn imports(config: &Config, args: &ImportsArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("running migrations")?;
    let lines = match &args.command {
        ImportsCommand::List { limit } => {
            let list = runs::list(&db, *limit).await?;
            if args.json {
                as_json(&list)
            } else {
                list.iter().map(run_line).collect()
            }
        }
        ImportsCommand::Show { id } => {
            let run = runs::show(&db, *id).await?;
            if args.json { as_json(&run) } else { run_lines(&run) }
        }
    };
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

fn run_line(run: &ImportRunView) -> String {
    format!(
        "{}  {}  {:<8}  {:<14}  read {} loaded {} rejected {} new {}  {}",
        run.id,
        run.started_at.format("%Y-%m-%d %H:%M"),
        run.status,
        run.source,
        run.rows_read,
        run.rows_loaded,
        run.rows_rejected,
        run.new_clients,
        run.file
    )
}

fn run_lines(run: &ImportRunView) -> Vec<String> {
    let mut lines = vec![
        format!("run       {}", run.id),
        format!("file      {} (sha256 {})", run.file, run.file_sha256),
        format!("source    {}", run.source),
        format!(
            "status    {}{}",
            run.status,
            run.last_error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
        format!(
            "started   {}   finished {}",
            run.started_at.to_rfc3339(),
            run.finished_at.map_or("-".to_owned(), |t| t.to_rfc3339())
        ),
        format!(
            "rows      {} read, {} loaded, {} rejected (last line {})",
            run.rows_read, run.rows_loaded, run.rows_rejected, run.last_line
        ),
        format!(
            "clients   {} new, {} linked, {} conflicts, {} unchanged",
            run.new_clients, run.linked, run.conflicts, run.unchanged
        ),
    ];
    for (name, s) in &run.stats {
        let show = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
        lines.push(format!(
            "{name:<9} min {} mean {} max {} over {} rows ({} not numeric)",
            show(s.min),
            show(s.mean),
            show(s.max),
            s.count,
            s.not_numeric
        ));
    }
    lines
}
