//! Gauges only the database knows (open conflicts, dead events, the outbox), read at scrape
//! time. Every replica is scraped, so the counts are cached briefly: a scrape storm or many
//! pods cost the database a few small aggregate queries per `TTL`, and a slow database never
//! holds a scrape longer than `READ_TIMEOUT` (the last counts are kept meanwhile).

use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use tokio::sync::Mutex;

use crate::store::{attention, outbox};

/// How long counts read from the database are served before they are read again.
const TTL: Duration = Duration::from_secs(10);

/// The most a scrape waits for the database.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// The database-backed gauges of one process, with the time they were last read.
pub struct StoredGauges {
    db: DatabaseConnection,
    read_at: Mutex<Option<Instant>>,
}

impl StoredGauges {
    /// Gauges read from `db`, not yet read.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            read_at: Mutex::new(None),
        }
    }

    /// Reads the counts again if the last read is older than the cache allows; concurrent
    /// scrapes wait for one read instead of each querying.
    pub async fn refresh(&self) {
        let mut read_at = self.read_at.lock().await;
        if read_at.is_some_and(|at| at.elapsed() < TTL) {
            return;
        }
        match tokio::time::timeout(READ_TIMEOUT, self.read()).await {
            Ok(Ok(())) => *read_at = Some(Instant::now()),
            Ok(Err(e)) => tracing::debug!(error = %e, "stored counts unavailable for this scrape"),
            Err(_) => tracing::debug!("stored counts not read within {READ_TIMEOUT:?}; kept the last ones"),
        }
    }

    async fn read(&self) -> Result<(), crate::store::StoreError> {
        let summary = attention::summary(&self.db, None).await?;
        let (pending, failed) = outbox::backlog(&self.db).await?;
        super::stored_attention(&summary);
        super::outbox_rows(pending, failed);
        Ok(())
    }
}
