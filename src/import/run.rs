//! One run of an import: dry (validation only) or into the store, batch by batch, each batch
//! one transaction with the run's figures, resumed after its last committed batch.

use std::{collections::HashSet, time::Instant};

use chrono::Utc;
use entity::import_runs::ImportStatus;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    domain::{event::Envelope, phone::Country},
    engine::{self, Applied, Outcome, ProcessError},
    reconcile::Matching,
    sources::EventEffect,
    store::imports::{self, Counters, RunOf},
};

use super::{
    Apply, ImportError, ImportJob, Progress, Summary,
    event::event,
    file,
    rows::{Batch, open},
    stats::RunStats,
};

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
        rows_in_bulk: 0,
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
    let mut rows_in_bulk = 0;
    let known = engine::Known::default();
    while let Some(batch) = rows.next_batch()? {
        let applied = engine::with_race_retries("import batch", || {
            commit(db, (matching, &known), job, run.id, at_ms, &batch, &stats)
        })
        .await;
        stats = match applied {
            Ok((next, in_bulk)) => {
                rows_in_bulk += in_bulk as u64;
                next
            }
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
        rows_in_bulk,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Applies one batch and records the run's new figures in one transaction; returns them, and
/// how many rows founded a client in bulk.
async fn commit(
    db: &DatabaseConnection,
    (matching, known): (&Matching, &engine::Known),
    job: &ImportJob,
    run: Uuid,
    at_ms: i64,
    batch: &Batch,
    before: &RunStats,
) -> Result<(RunStats, usize), ProcessError> {
    let began_ms = Utc::now().timestamp_millis();
    let events: Vec<(Envelope, EventEffect)> = batch
        .valid
        .iter()
        .map(|row| event(job.source, run, at_ms, row))
        .collect();
    let refs: Vec<(&Envelope, &EventEffect, u32)> = events.iter().map(|(e, f)| (e, f, 0)).collect();
    let txn = db.begin().await?;
    let Applied { outcomes, in_bulk } = match job.apply {
        Apply::InBulk => engine::apply_all_in_bulk(&txn, matching, known, &refs).await?,
        Apply::EventByEvent => Applied {
            outcomes: engine::apply_all(&txn, matching, &refs).await?,
            in_bulk: 0,
        },
    };
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
            Outcome::PendingEnrichment | Outcome::Deleted | Outcome::Ignored | Outcome::Project(_) => {}
        }
    }
    merge_columns(&mut next, batch);
    imports::advance(&txn, run, next.counters, batch.last_line, next.columns_json()).await?;
    txn.commit().await?;
    Ok((next, in_bulk))
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
