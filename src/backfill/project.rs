//! Projects in a backfill: with `[projects]` configured, the deals and the tasks of the project
//! lists are read page by page like the client streams and applied through the project path
//! (`projects::apply`), so a backfilled project is the one its webhooks would have made. Each
//! object is applied as a snapshot (`sources::snapshot_envelope`: its id and last-change time),
//! so a second run over unchanged objects finds them all applied already. A backfill does not
//! write back, for projects as for clients.

use serde_json::Value;

use super::{Backfill, BackfillError, StreamReport, count};
use crate::{
    domain::source::Source,
    projects::{self, ProjectEvent},
    sources::{self, project},
    store::inbox,
};

/// The HubSpot object kind whose objects bill projects.
pub(super) const DEAL: &str = "deal";

impl Backfill {
    /// Applies a page of deals (`source` HubSpot) or project tasks (ClickUp) one by one through
    /// the project path; an object that cannot be applied at all is recorded as dead in the inbox
    /// with its reason.
    pub(super) async fn apply_projects(
        &self,
        source: Source,
        objects: Vec<Value>,
        report: &mut StreamReport,
    ) -> Result<(), BackfillError> {
        let config = self.projects.as_deref().ok_or(BackfillError::NotConfigured(
            "projects: set projects.clickup_list_ids",
        ))?;
        for object in objects {
            let event = match source {
                Source::HubSpot => project::deal(&object, config).map(|d| ProjectEvent::of_deal(d, config)),
                Source::ClickUp => project::task(&object, config).map(ProjectEvent::Task),
            };
            let kind = match source {
                Source::HubSpot => DEAL,
                Source::ClickUp => "task",
            };
            let (Some(event), Some(env)) = (event, sources::snapshot_envelope(source, kind, object)) else {
                *report.outcomes.entry("unreadable").or_default() += 1;
                continue;
            };
            match projects::apply(&self.db, &env, &event, 0).await {
                Ok(outcome) => count(report, &outcome),
                Err(e) if e.is_transient() => return Err(e.into()),
                Err(e) => {
                    let reason = e.to_string();
                    tracing::error!(id = %env.id, %reason, "backfilled project object could not be applied");
                    inbox::record_dead(&self.db, &env, 0, &reason).await?;
                    *report.outcomes.entry("dead").or_default() += 1;
                }
            }
        }
        Ok(())
    }
}
