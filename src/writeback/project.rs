//! Project write-back: a project's two sides get the values the other one owns. The deal that
//! bills a project receives what ClickUp owns of the work (status, time estimate, time spent);
//! the project task receives what HubSpot owns of the billing (amount, payment status), in the
//! custom fields `[projects]` names. As for clients: a value is written only where the side holds
//! something else, never twice while its echo is on the way (the write log), never over a field
//! with an open project conflict, through the outbox (so the drainer retries what a source could
//! not take), and the value written is stored on the project at once as that side's word,
//! marked as ours (`reconcile::project` does not count it as the side's opinion).

use std::collections::{HashMap, HashSet};

use chrono::Utc;

use super::{WriteBack, WriteBackError};
use crate::{
    domain::{ids::ProjectId, source::Source},
    reconcile::project::{ProjectField, ProjectMerge, merge_project},
    store::{
        outbox::{self, PlannedProjectWrite},
        projects::{self, Project},
        write_log,
    },
};

/// One project value to write to the deal or the project task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectWrite {
    /// The system written to.
    pub source: Source,
    /// The record (`deal:…`, `task:…`).
    pub external_id: String,
    /// `deal` or `task`.
    pub kind: &'static str,
    /// Which field.
    pub field: ProjectField,
    /// The golden value, as stored (cents, milliseconds, text).
    pub value: String,
}

/// The record write-back writes a project's fields to in `source`, if it has one there.
fn record_in(project: &Project, source: Source) -> Option<(String, &'static str)> {
    match source {
        Source::HubSpot => project
            .hubspot_deal_id
            .as_ref()
            .map(|deal| (format!("deal:{deal}"), "deal")),
        Source::ClickUp => Some((format!("task:{}", project.clickup_task_id), "task")),
    }
}

/// Which values to write for one project (pure): each field write-back carries goes to the side
/// that does not own it when that side holds something else, unless the same value was written
/// there already or the field is in dispute. A deleted project writes nothing.
pub fn plan(
    project: &Project,
    merged: &ProjectMerge,
    written: &HashMap<(Source, ProjectField), String>,
    disputed: &HashSet<ProjectField>,
) -> Vec<ProjectWrite> {
    if project.deleted {
        return Vec::new();
    }
    let mut writes = Vec::new();
    for field in ProjectField::ALL {
        let Some(target) = field.written_to() else {
            continue;
        };
        if disputed.contains(&field) {
            continue;
        }
        let (Some(golden), Some((external_id, kind))) = (merged.value(field), record_in(project, target))
        else {
            continue;
        };
        let side = match target {
            Source::HubSpot => &project.hubspot,
            Source::ClickUp => &project.clickup,
        };
        if side.value(field).is_some_and(|held| field.same(held, golden)) {
            continue;
        }
        if written.get(&(target, field)) == Some(&write_log::digest(golden)) {
            continue;
        }
        writes.push(ProjectWrite {
            source: target,
            external_id,
            kind,
            field,
            value: golden.to_owned(),
        });
    }
    writes
}

impl WriteBack {
    /// Plans one project's values for its deal and its task into the outbox, then sends those
    /// due; returns how many values were written now.
    pub async fn sync_project(&self, id: ProjectId) -> Result<usize, WriteBackError> {
        let Some(project) = projects::find(&self.db, id).await? else {
            return Ok(0);
        };
        let mut written = HashMap::new();
        for source in [Source::HubSpot, Source::ClickUp] {
            if let Some((external_id, _)) = record_in(&project, source) {
                for ((_, field), digest) in write_log::load_project(&self.db, source, &[external_id]).await? {
                    written.insert((source, field), digest);
                }
            }
        }
        let disputed = projects::disputed_fields(&self.db, &project).await?;
        let merged = merge_project(&project.clickup, &project.hubspot);
        let writes: Vec<ProjectWrite> = plan(&project, &merged, &written, &disputed)
            .into_iter()
            .filter(|w| self.reaches(w.source))
            .collect();
        if writes.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        // As for clients: the planning transaction takes SQLite's write lock from its start.
        let txn = crate::store::begin_write(&self.db).await?;
        let mut planned = Vec::with_capacity(writes.len());
        for write in &writes {
            let planned_write = PlannedProjectWrite {
                project: id,
                client: project.client_id,
                source: write.source,
                external_id: &write.external_id,
                kind: write.kind,
                field: write.field,
                value: &write.value,
            };
            planned.push(outbox::plan_project(&txn, &planned_write, now).await?);
        }
        txn.commit().await?;
        Ok(self.drainer.send_planned(&planned, now).await?.sent)
    }

    /// Whether write-back has an API client for `source`.
    fn reaches(&self, source: Source) -> bool {
        match source {
            Source::HubSpot => self.apis.hubspot.is_some(),
            Source::ClickUp => self.apis.clickup.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{
        FieldValue,
        merge::WRITE_BACK_EVENT,
        project::{ProjectChange, ProjectSide, apply_changes},
    };

    fn side(pairs: &[(ProjectField, &str)]) -> ProjectSide {
        let mut s = ProjectSide::default();
        let changes: Vec<ProjectChange> = pairs
            .iter()
            .map(|(field, raw)| ProjectChange {
                field: *field,
                raw: Some((*raw).to_owned()),
            })
            .collect();
        assert!(apply_changes(&mut s, &changes, 1, "e").is_empty());
        s
    }

    fn project(clickup: ProjectSide, hubspot: ProjectSide) -> Project {
        let mut p = Project::new("t1");
        p.hubspot_deal_id = Some("d1".into());
        p.clickup = clickup;
        p.hubspot = hubspot;
        p
    }

    fn planned(
        p: &Project,
        written: &HashMap<(Source, ProjectField), String>,
        disputed: &HashSet<ProjectField>,
    ) -> Vec<(String, ProjectField, String)> {
        plan(p, &merge_project(&p.clickup, &p.hubspot), written, disputed)
            .into_iter()
            .map(|w| (w.external_id, w.field, w.value))
            .collect()
    }

    #[test]
    fn the_deal_gets_the_work_clickup_owns_and_the_task_gets_the_billing_hubspot_owns() {
        let p = project(
            side(&[
                (ProjectField::Status, "in progress"),
                (ProjectField::TimeEstimate, "7200000"),
                (ProjectField::Name, "Web"),
            ]),
            side(&[
                (ProjectField::Amount, "1500.50"),
                (ProjectField::PaymentStatus, "Pending"),
                (ProjectField::Name, "Web (deal)"),
            ]),
        );
        assert_eq!(
            planned(&p, &HashMap::new(), &HashSet::new()),
            vec![
                (
                    "deal:d1".to_owned(),
                    ProjectField::Status,
                    "in progress".to_owned()
                ),
                (
                    "deal:d1".to_owned(),
                    ProjectField::TimeEstimate,
                    "7200000".to_owned()
                ),
                (
                    "task:t1".to_owned(),
                    ProjectField::PaymentStatus,
                    "Pending".to_owned()
                ),
                ("task:t1".to_owned(), ProjectField::Amount, "150050".to_owned()),
            ],
            "the name, which neither side writes to the other, stays a matter for an operator"
        );
    }

    #[test]
    fn nothing_is_written_where_the_side_agrees_was_written_already_or_is_in_dispute() {
        let mut p = project(
            side(&[
                (ProjectField::Status, "In Progress"),
                (ProjectField::Amount, "1000"),
            ]),
            side(&[
                (ProjectField::Status, "in progress"),
                (ProjectField::Amount, "1500"),
                (ProjectField::PaymentStatus, "Paid"),
            ]),
        );
        let written = HashMap::from([(
            (Source::ClickUp, ProjectField::PaymentStatus),
            write_log::digest("Paid"),
        )]);
        let disputed = HashSet::from([ProjectField::Amount]);
        assert!(planned(&p, &written, &disputed).is_empty());
        p.deleted = true;
        assert!(
            planned(&p, &HashMap::new(), &HashSet::new()).is_empty(),
            "a deleted project writes nothing"
        );
    }

    #[test]
    fn a_project_without_a_deal_writes_only_to_its_task() {
        let mut p = project(side(&[(ProjectField::Status, "done")]), ProjectSide::default());
        p.hubspot_deal_id = None;
        p.hubspot.apply(
            ProjectField::Amount,
            FieldValue {
                value: Some("500".into()),
                at_ms: 1,
                event: WRITE_BACK_EVENT.into(),
            },
        );
        assert_eq!(
            planned(&p, &HashMap::new(), &HashSet::new()),
            vec![("task:t1".to_owned(), ProjectField::Amount, "500".to_owned())]
        );
    }
}
