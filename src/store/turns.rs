//! SQLite lets one connection write at a time. A writer that finds the file locked sleeps and
//! tries again (SQLite's busy handler backs off to 100 ms a try), so a short write queued behind
//! long ones, a receiver's enqueue behind worker batches, may lose the lock to them again and
//! again: 645 ms at p99 under load (issue 16). Writers of one process that go through here take
//! turns first come, first served instead, and meet the lock free. Postgres orders its writers by
//! row locks and needs none of it.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex, PoisonError},
};

use tokio::sync::OwnedMutexGuard;

use crate::config::DatabaseConfig;

/// The turns of every SQLite file this process writes, by file.
static FILES: LazyLock<Mutex<HashMap<String, WriteTurns>>> = LazyLock::new(Mutex::default);

/// Turns at writing one database, shared by every writer of this process that takes them.
#[derive(Clone, Default)]
pub struct WriteTurns(Option<Arc<tokio::sync::Mutex<()>>>);

impl WriteTurns {
    /// No turns: every writer goes straight to the database (Postgres, and tests that want none).
    pub fn none() -> Self {
        Self(None)
    }

    /// The turns of the configured database: one queue per SQLite file, none for Postgres.
    pub fn of(config: &DatabaseConfig) -> Self {
        if !config.is_sqlite() {
            return Self::none();
        }
        let mut files = FILES.lock().unwrap_or_else(PoisonError::into_inner);
        files
            .entry(config.endpoint())
            .or_insert_with(|| Self(Some(Arc::default())))
            .clone()
    }

    /// Waits for this writer's turn; the turn ends when the guard drops. Hold it across one
    /// write transaction and nothing else: a holder that waits for another turn deadlocks.
    pub async fn take(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.0 {
            Some(turns) => Some(turns.clone().lock_owned().await),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writers_of_one_sqlite_file_share_turns_and_postgres_writers_take_none() {
        let mut sqlite = crate::config::Config::defaults().unwrap().database;
        sqlite.url = secrecy::SecretString::from("sqlite:///tmp/turns-test.db?mode=rwc");
        let first = WriteTurns::of(&sqlite);
        let held = first.take().await;
        assert!(held.is_some());
        let second = WriteTurns::of(&sqlite);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(20), second.take())
                .await
                .is_err(),
            "a second writer of the same file waits for the first"
        );
        drop(held);
        assert!(second.take().await.is_some(), "and goes once the first is done");
        let mut postgres = sqlite.clone();
        postgres.url = secrecy::SecretString::from("postgres://u@localhost/db");
        assert!(WriteTurns::of(&postgres).take().await.is_none());
    }
}
