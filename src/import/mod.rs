//! `clientsync import`: a HubSpot or ClickUp export, or any CSV, loaded through the same
//! reconcile path as the webhooks. Each row is validated first (a refused row goes to
//! `FILE.rejected.csv` with its line and reason, and is never half-written), then applied as an
//! event of its source in micro-batches of N rows, each batch one transaction together with the
//! run's counters and statistics. A run is found again by the file's SHA-256: a stopped one
//! resumes after its last committed batch, and a row imported before is the same event again
//! (the inbox knows it), so re-importing a file creates nothing new.
//!
//! - `file`, `encoding`, `columns`, `validate`: reading an export and its text encoding,
//!   mapping its columns, checking a row.
//! - `rows`: the file cut into batches of checked rows; `rejected`: the refused ones.
//! - `run`: a run, dry or not, batch by batch; `event`: the event a row becomes.
//! - `stats`: the run's counters and column figures.

pub mod columns;
pub mod encoding;
mod event;
pub mod file;
pub mod rejected;
mod rows;
mod run;
pub mod stats;
pub mod validate;

use std::path::PathBuf;

use sea_orm::DbErr;
use uuid::Uuid;

pub use columns::{ImportColumns, ImportSource, Mapping};
pub use encoding::{Encoding, ReadAs};
pub use run::{dry_run, import};

use crate::engine::ProcessError;
use stats::RunStats;

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
    /// How a batch's rows reach the store.
    pub apply: Apply,
}

/// How a batch's rows reach the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Apply {
    /// The rows certain to found a client of their own are written together, the others go
    /// through the per-event path (`engine::apply_all_in_bulk`): the same store, far fewer
    /// statements.
    #[default]
    InBulk,
    /// Every row through the per-event path, as a webhook event: what the bulk path is
    /// checked against.
    EventByEvent,
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
    /// Rows of this invocation that founded a client in bulk.
    pub rows_in_bulk: u64,
    /// Seconds this invocation took.
    pub seconds: f64,
}
