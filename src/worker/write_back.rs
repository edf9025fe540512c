//! The worker's write-back after an event: each client's or project's values brought up to date
//! in both systems, and what planning that came to logged and counted, never failing the event.

use super::{Panicked, Worker, guarded};
use crate::{
    domain::ids::{ClientId, ProjectId},
    metrics,
};

impl Worker {
    /// Brings the clients' records in both systems up to their golden values. A write that fails
    /// stays in the outbox, where the drainer retries it; a failure to plan is logged and counted:
    /// the event is already applied, and the next change to the client plans the same writes.
    pub(super) async fn write_back(&self, clients: impl IntoIterator<Item = ClientId>) {
        let Some(write_back) = &self.write_back else {
            return;
        };
        let mut seen = std::collections::HashSet::new();
        for client in clients.into_iter().filter(|c| seen.insert(*c)) {
            report_write_back("client", client, guarded(write_back.sync(client)).await);
        }
    }

    /// Brings a project's deal and task up to the values the other side owns; failures are
    /// handled as for clients (`write_back`).
    pub(super) async fn write_back_project(&self, project: ProjectId) {
        let Some(write_back) = &self.write_back else {
            return;
        };
        report_write_back(
            "project",
            project,
            guarded(write_back.sync_project(project)).await,
        );
    }
}

/// Logs and counts what planning one subject's write-back came to. A failure is not the
/// event's: it is already applied, and the subject's next change plans the same writes.
fn report_write_back(
    subject: &str,
    id: impl std::fmt::Display,
    result: Result<Result<usize, crate::writeback::WriteBackError>, Panicked>,
) {
    match result {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::debug!(subject, %id, written = n, "wrote values back"),
        Ok(Err(e)) => {
            metrics::write_back_failed();
            tracing::warn!(subject, %id, error = %e, "write-back failed; the next change tries again");
        }
        Err(panicked) => {
            metrics::write_back_failed();
            tracing::error!(subject, %id, panic = panicked.message(), "write-back panicked; the next change tries again");
        }
    }
}
