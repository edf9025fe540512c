//! `clientsync import`: a HubSpot or ClickUp export, or any CSV, loaded through the same
//! reconcile path as the webhooks. Each row is validated first (a refused row goes to
//! `FILE.rejected.csv` with its line and reason, and is never half-written), then applied as an
//! event of its source in micro-batches of N rows, each batch one transaction together with the
//! run's counters and statistics. A run is found again by the file's SHA-256: a stopped one
//! resumes after its last committed batch, and a row imported before is the same event again
//! (the inbox knows it), so re-importing a file creates nothing new.

pub mod columns;
pub mod file;
pub mod rejected;
pub mod stats;
pub mod validate;

use std::{
    collections::{BTreeMap, HashSet},
    path::PathBuf,
    time::Instant,
};

use chrono::Utc;
use entity::import_runs::ImportStatus;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use columns::{ImportColumns, ImportSource, Mapping};
pub use file::{Encoding, ReadAs};

use crate::{
    domain::{
        event::{Envelope, EventId},
        phone::Country,
    },
    engine::{self, Outcome, ProcessError},
    reconcile::Matching,
    sources::{Change, EventEffect},
    store::imports::{self, Counters, RunOf},
};
use file::Export;
use rejected::Rejected;
use stats::{ColumnStats, RunStats};
use validate::{ValidRow, validate};

/// Event type of an envelope made from an imported row.
pub const IMPORT: &str = "import";

/// Why an import stopped or was refused; every variant names the file, and the line when one is
/// at fault. Bad rows are not errors: they are listed in the rejected file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file could not be opened, read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The header line cannot be read.
    #[error("{file}, line 1: {problem}")]
    Header {
        /// The file.
        file: String,
        /// What is wrong.
        problem: String,
    },
    /// The CSV reader failed part-way (not a bad row: the file itself).
    #[error("{file}, line {line}: {problem}")]
    Unreadable {
        /// The file.
        file: String,
        /// Where.
        line: u64,
        /// What the reader said.
        problem: String,
    },
    /// A line of the `--mapping` file is not `field = Header` or `id = Header`.
    #[error("{file}, line {line}: {problem}")]
    Mapping {
        /// The mapping file.
        file: String,
        /// Its line.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// The file's columns do not fit (from the CSV column names of `clientsync match`).
    #[error("{0}")]
    Columns(String),
    /// A column named in the mapping or by `--stat` is not in the header.
    #[error("{file}: no column named `{header}` (the header has: {headers})")]
    MissingColumn {
        /// The file.
        file: String,
        /// The header asked for.
        header: String,
        /// The header line, for the user to compare.
        headers: String,
    },
    /// A HubSpot or ClickUp export without its id column: likely the wrong file or source.
    #[error(
        "{file}: no `{expected}` column, which every {export} export has; name the id column in a \
         --mapping file (`id = Header`) or import it with --source csv"
    )]
    NoIdColumn {
        /// The file.
        file: String,
        /// The kind of export asked for.
        export: String,
        /// The column its exports have.
        expected: &'static str,
    },
    /// No column can say who a row is.
    #[error(
        "{file}: no column maps to an email, document key or name (the header has: {headers}); \
         map them in a --mapping file (`email = Header`)"
    )]
    NoIdentifyingColumn {
        /// The file.
        file: String,
        /// The header line.
        headers: String,
    },
    /// The store failed outside a batch.
    #[error("store: {0}")]
    Store(#[from] DbErr),
    /// Applying a batch failed; the run resumes at that batch when started again.
    #[error("applying a batch failed: {0}")]
    Process(#[from] ProcessError),
    /// Shutdown was asked for; committed batches stand.
    #[error("interrupted after line {line}; run the same command again to resume there")]
    Interrupted {
        /// The last committed line.
        line: u64,
    },
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportJob {
    /// The export.
    pub file: PathBuf,
    /// What kind of export, and whose records its rows become.
    pub source: ImportSource,
    /// Columns named by the user.
    pub mapping: Mapping,
    /// Rows per transaction.
    pub batch: usize,
    /// Numeric columns to keep min, mean and max of.
    pub stats: Vec<String>,
    /// The file's text encoding, or `Auto` to tell UTF-8 from Windows-1252 by its bytes.
    pub encoding: Encoding,
}

/// Where a run stands, after each batch.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// The run's figures so far.
    pub stats: &'a RunStats,
    /// Bytes of the file read.
    pub offset: u64,
    /// The file's size.
    pub bytes: u64,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The stored run (none for a dry run).
    pub run: Option<Uuid>,
    /// Whether it went on from a stopped run of the same file.
    pub resumed: bool,
    /// Its figures, the resumed part included.
    pub stats: RunStats,
    /// The rejected-rows file, when a row was refused.
    pub rejected_file: Option<PathBuf>,
    /// The encoding the file was read in.
    pub read_as: ReadAs,
    /// Seconds this invocation took.
    pub seconds: f64,
}

/// Rows read since the last batch, validated.
struct Batch {
    valid: Vec<ValidRow>,
    read: u64,
    rejected: u64,
    last_line: u64,
    offset: u64,
    columns: BTreeMap<String, ColumnStats>,
}

/// The file's rows, cut into batches of validated rows; refused ones go to the rejected file.
struct Rows {
    export: Export,
    columns: ImportColumns,
    rejected: Rejected,
    country: Option<Country>,
    size: usize,
    after_line: u64,
}

impl Rows {
    fn next_batch(&mut self) -> Result<Option<Batch>, ImportError> {
        let mut batch = Batch {
            valid: Vec::with_capacity(self.size),
            read: 0,
            rejected: 0,
            last_line: self.after_line,
            offset: 0,
            columns: self
                .columns
                .stats
                .iter()
                .map(|(name, _)| (name.clone(), ColumnStats::default()))
                .collect(),
        };
        while batch.read < self.size as u64 {
            let Some(row) = self.export.next_row()? else { break };
            batch.offset = row.offset;
            if row.line <= self.after_line {
                continue;
            }
            batch.read += 1;
            batch.last_line = row.line;
            let checked = row
                .cells(&self.export.headers, self.export.read_as)
                .and_then(|cells| {
                    let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
                    let valid = validate(
                        &self.columns,
                        &self.export.headers,
                        &cells,
                        row.line,
                        self.country,
                    )?;
                    for (name, i) in &self.columns.stats {
                        if let (Some(figures), Some(cell)) = (batch.columns.get_mut(name), cells.get(*i)) {
                            figures.add(cell);
                        }
                    }
                    Ok(valid)
                });
            match checked {
                Ok(valid) => batch.valid.push(valid),
                Err(reason) => {
                    batch.rejected += 1;
                    self.rejected.write(&row, &reason)?;
                }
            }
        }
        self.rejected.flush()?;
        Ok((batch.read > 0).then_some(batch))
    }
}

/// Opens the file and checks its columns: what every run, dry or not, starts with.
fn open(job: &ImportJob, country: Option<Country>, after_line: u64) -> Result<Rows, ImportError> {
    let name = job.file.display().to_string();
    let export = Export::open(&job.file, job.encoding)?;
    let columns = ImportColumns::resolve(&name, &export.headers, job.source, &job.mapping, &job.stats)?;
    let path = rejected::path_for(&job.file);
    let rejected = if after_line > 0 {
        Rejected::resume(
            path,
            &export.headers,
            export.delimiter,
            export.read_as,
            after_line,
        )?
    } else {
        Rejected::start(path, &export.headers, export.delimiter, export.read_as)?
    };
    Ok(Rows {
        export,
        columns,
        rejected,
        country,
        size: job.batch.max(1),
        after_line,
    })
}

/// Validates every row and writes the rejected file, touching no database: what `--dry-run`
/// does. `loaded` counts the rows that would be applied.
pub fn dry_run(
    job: &ImportJob,
    country: Option<Country>,
    on_batch: &mut dyn FnMut(Progress<'_>),
) -> Result<Summary, ImportError> {
    let started = Instant::now();
    let mut rows = open(job, country, 0)?;
    let mut stats = RunStats::new(&job.stats);
    while let Some(batch) = rows.next_batch()? {
        let c = &mut stats.counters;
        c.rows_read += batch.read;
        c.rows_rejected += batch.rejected;
        c.rows_loaded += batch.valid.len() as u64;
        merge_columns(&mut stats, &batch);
        on_batch(Progress {
            stats: &stats,
            offset: batch.offset,
            bytes: rows.export.bytes,
        });
    }
    let rejected_file = rows.rejected.close(stats.counters.rows_rejected > 0)?;
    Ok(Summary {
        run: None,
        resumed: false,
        stats,
        rejected_file,
        read_as: rows.export.read_as,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Imports the file into the store, resuming a stopped run of the same file and source; stops
/// between batches when `shutdown` is cancelled.
pub async fn import(
    db: &DatabaseConnection,
    matching: &Matching,
    job: &ImportJob,
    shutdown: &CancellationToken,
    on_batch: &mut dyn FnMut(Progress<'_>),
) -> Result<Summary, ImportError> {
    let started = Instant::now();
    let sha256 = file::sha256(&job.file)?;
    let label = job.source.label();
    let previous = imports::resumable(db, &sha256, &label).await?;
    let resumed = previous.is_some();
    let (run, mut stats, after_line) = match previous {
        Some(run) => {
            let stats = RunStats::resumed(Counters::of(&run), &run.stats, &job.stats);
            let line = u64::try_from(run.last_line).unwrap_or_default();
            (run, stats, line)
        }
        None => {
            let of = RunOf {
                file: &job.file.display().to_string(),
                sha256: &sha256,
                source: &label,
                options: serde_json::json!({
                    "batch": job.batch,
                    "stats": job.stats,
                    "mapping_id": job.mapping.id,
                    "mapping": job.mapping.columns.iter()
                        .map(|c| format!("{} = {}", c.field().as_str(), c.header()))
                        .collect::<Vec<_>>(),
                }),
            };
            (
                imports::create(db, of, Utc::now()).await?,
                RunStats::new(&job.stats),
                0,
            )
        }
    };
    let mut rows = open(job, matching.country, after_line)?;
    let at_ms = run.started_at.timestamp_millis();
    while let Some(batch) = rows.next_batch()? {
        let applied = engine::with_race_retries("import batch", || {
            commit(db, matching, job.source, run.id, at_ms, &batch, &stats)
        })
        .await;
        stats = match applied {
            Ok(next) => next,
            Err(e) => {
                let _ = imports::finish(db, run.id, ImportStatus::Failed, Some(&e.to_string())).await;
                return Err(e.into());
            }
        };
        on_batch(Progress {
            stats: &stats,
            offset: batch.offset,
            bytes: rows.export.bytes,
        });
        if shutdown.is_cancelled() {
            rows.rejected.close(true)?;
            return Err(ImportError::Interrupted {
                line: batch.last_line,
            });
        }
    }
    imports::finish(db, run.id, ImportStatus::Finished, None).await?;
    let rejected_file = rows.rejected.close(stats.counters.rows_rejected > 0)?;
    Ok(Summary {
        run: Some(run.id),
        resumed,
        stats,
        rejected_file,
        read_as: rows.export.read_as,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Applies one batch and records the run's new figures in one transaction; returns them.
async fn commit(
    db: &DatabaseConnection,
    matching: &Matching,
    source: ImportSource,
    run: Uuid,
    at_ms: i64,
    batch: &Batch,
    before: &RunStats,
) -> Result<RunStats, ProcessError> {
    let began_ms = Utc::now().timestamp_millis();
    let events: Vec<(Envelope, EventEffect)> = batch
        .valid
        .iter()
        .map(|row| event(source, run, at_ms, row))
        .collect();
    let refs: Vec<(&Envelope, &EventEffect, u32)> = events.iter().map(|(e, f)| (e, f, 0)).collect();
    let txn = db.begin().await?;
    let outcomes = engine::apply_all(&txn, matching, &refs).await?;
    let mut next = before.clone();
    let c = &mut next.counters;
    c.rows_read += batch.read;
    c.rows_rejected += batch.rejected;
    c.rows_loaded += batch.valid.len() as u64;
    let mut founded = HashSet::new();
    for outcome in &outcomes {
        match outcome {
            Outcome::Linked(client)
                if created_since(client.as_uuid(), began_ms) && founded.insert(*client) =>
            {
                c.new_clients += 1;
            }
            Outcome::Linked(_) => c.linked += 1,
            Outcome::Collision | Outcome::Ambiguous => c.conflicts += 1,
            Outcome::Duplicate => c.unchanged += 1,
            Outcome::PendingEnrichment | Outcome::Deleted | Outcome::Ignored | Outcome::Project => {}
        }
    }
    merge_columns(&mut next, batch);
    imports::advance(&txn, run, next.counters, batch.last_line, next.columns_json()).await?;
    txn.commit().await?;
    Ok(next)
}

fn merge_columns(stats: &mut RunStats, batch: &Batch) {
    for (name, figures) in &batch.columns {
        stats.columns.entry(name.clone()).or_default().merge(figures);
    }
}

/// Whether a client id (UUIDv7, time-ordered) was made at or after `ms`.
fn created_since(id: Uuid, ms: i64) -> bool {
    id.get_timestamp().is_some_and(|t| {
        let (secs, nanos) = t.to_unix();
        let made =
            i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000) + i64::from(nanos / 1_000_000);
        made >= ms
    })
}

/// The event a valid row becomes: an update of its source record carrying every value, dated
/// at the run's start; its id is the row's content, so the same row imported again is a duplicate.
fn event(source: ImportSource, run: Uuid, at_ms: i64, row: &ValidRow) -> (Envelope, EventEffect) {
    let (origin, kind) = (source.source(), source.kind());
    let values: serde_json::Map<String, serde_json::Value> = row
        .values
        .iter()
        .map(|(f, v)| (f.as_str().to_owned(), serde_json::Value::String(v.clone())))
        .collect();
    let env = Envelope {
        id: EventId::new(format!(
            "{origin}:{IMPORT}:{kind}:{}:{}",
            row.object_id,
            &row.digest[..16]
        )),
        source: origin,
        event_type: IMPORT.to_owned(),
        object_id: row.object_id.clone(),
        occurred_at_ms: at_ms,
        received_at: Utc::now(),
        payload: serde_json::json!({ "import_run": run, "line": row.line, "values": values }),
    };
    let effect = EventEffect::Update {
        kind,
        changes: row
            .values
            .iter()
            .map(|(field, value)| Change {
                field: *field,
                raw: Some(value.clone()),
                at_ms,
            })
            .collect(),
    };
    (env, effect)
}
