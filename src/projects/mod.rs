//! The project path: ClickUp tasks of the configured project lists and the HubSpot deals that
//! name them become `projects` rows, beside (not inside) the client they are for. The worker
//! asks `route` first; what it claims never reaches the client engine, and everything else
//! flows as before. Webhooks are thin for our purpose (a task event carries one history item,
//! a deal event one property), so the object is always read from its source and applied as a
//! whole, at its own last-change time.
//!
//! A task's events do not say which list it is in: a task already known as a project (or as a
//! client) is routed by the store; an unknown one is read once to see its list.
//!
//! Once applied, the worker hands the project to write-back (`writeback::project`), which calls
//! `record_written` for each value a source took.

use std::sync::Arc;

use chrono::Utc;
use entity::inbox_events::InboxStatus;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use serde_json::Value;

use crate::{
    config::{Config, ProjectsConfig},
    domain::{event::Envelope, ids::ProjectId, source::Source},
    engine::{Outcome, ProcessError, with_race_retries},
    reconcile::{
        FieldValue,
        merge::WRITE_BACK_EVENT,
        project::{ProjectField, ProjectSide, ProjectValueError, apply_changes, merge_project},
    },
    saas::{Apis, SaasError, clickup::ClickUpApi, hubspot::HubSpotApi},
    sources::{
        OwnWrites,
        project::{self, ProjectDeal, ProjectTask},
    },
    store::{
        StoreError,
        inbox::{self, Claim},
        projects::{self as store, Project},
    },
    worker::enrich::ECHO,
};

/// What a project event turned out to be once its object was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectEvent {
    /// The project task as it is now.
    Task(ProjectTask),
    /// The project task no longer exists (or left the project lists).
    TaskGone {
        /// The task id.
        task_id: String,
    },
    /// The deal as it is now.
    Deal(ProjectDeal),
    /// The deal no longer exists.
    DealGone {
        /// The deal id.
        deal_id: String,
    },
    /// Stored in the inbox, nothing to apply (an echo of our own write, a deal naming no task).
    Ignore(String),
}

impl ProjectEvent {
    /// What a deal as read means: a project's billing side, or nothing when it names no task.
    pub fn of_deal(deal: ProjectDeal, config: &ProjectsConfig) -> Self {
        if deal.task_id.is_none() {
            return ProjectEvent::Ignore(format!(
                "the deal names no project task (property `{}`)",
                config.deal_task_property
            ));
        }
        ProjectEvent::Deal(deal)
    }
}

/// Routes and reads project events; exists only when a project list is configured.
#[derive(Clone)]
pub struct ProjectSync {
    config: Arc<ProjectsConfig>,
    hubspot: Option<Arc<HubSpotApi>>,
    clickup: Option<Arc<ClickUpApi>>,
    own: OwnWrites,
}

impl ProjectSync {
    /// The project path of `config`, reading through `apis`; `None` while projects are off.
    pub fn from_config(config: &Config, apis: &Apis) -> Option<Self> {
        config.projects.enabled().then(|| Self {
            config: Arc::new(config.projects.clone()),
            hubspot: apis.hubspot.clone(),
            clickup: apis.clickup.clone(),
            own: config.own_writes(),
        })
    }

    /// Whether `env` is a project's event and, if so, what it means now (its object read from
    /// the source); `None` leaves it to the client path.
    pub async fn route(
        &self,
        db: &DatabaseConnection,
        env: &Envelope,
    ) -> Result<Option<ProjectEvent>, ProcessError> {
        match env.source {
            Source::HubSpot => self.route_deal(env).await,
            Source::ClickUp => self.route_task(db, env).await,
        }
    }

    async fn route_deal(&self, env: &Envelope) -> Result<Option<ProjectEvent>, ProcessError> {
        if !project::is_deal_event(&env.payload) {
            return Ok(None);
        }
        let deal_id = env.object_id.clone();
        if self.own.made(env) {
            return Ok(Some(ProjectEvent::Ignore(ECHO.into())));
        }
        if project::is_deal_deletion(&env.payload) {
            return Ok(Some(ProjectEvent::DealGone { deal_id }));
        }
        let Some(api) = &self.hubspot else {
            return Ok(Some(ProjectEvent::Ignore(
                "no HubSpot access token to read the deal with".into(),
            )));
        };
        let objects = api
            .batch_read(
                "deal",
                std::slice::from_ref(&deal_id),
                &project::deal_properties(&self.config),
            )
            .await?;
        let found = objects
            .iter()
            .find(|o| o.get("id").and_then(Value::as_str) == Some(deal_id.as_str()));
        Ok(Some(match found.and_then(|o| project::deal(o, &self.config)) {
            None => ProjectEvent::DealGone { deal_id },
            Some(deal) => ProjectEvent::of_deal(deal, &self.config),
        }))
    }

    async fn route_task(
        &self,
        db: &DatabaseConnection,
        env: &Envelope,
    ) -> Result<Option<ProjectEvent>, ProcessError> {
        let name = env
            .payload
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !name.starts_with("task") {
            return Ok(None);
        }
        let task_id = env.object_id.clone();
        let known = store::is_project_task(db, &task_id).await?;
        if !known && (name == "taskDeleted" || store::is_client_task(db, &task_id).await?) {
            return Ok(None);
        }
        if self.own.made(env) {
            return Ok(known.then(|| ProjectEvent::Ignore(ECHO.into())));
        }
        if name == "taskDeleted" {
            return Ok(Some(ProjectEvent::TaskGone { task_id }));
        }
        let Some(api) = &self.clickup else {
            return Ok(known
                .then(|| ProjectEvent::Ignore("no ClickUp API token to read the project task with".into())));
        };
        let task = match api.task(&task_id).await {
            Ok(task) => task,
            Err(SaasError::NotFound { .. }) => return Ok(known.then_some(ProjectEvent::TaskGone { task_id })),
            Err(e) => return Err(e.into()),
        };
        let in_project_list = project::list_of(&task).is_some_and(|l| self.config.is_project_list(&l));
        Ok(match (in_project_list, known) {
            (true, _) => Some(match project::task(&task, &self.config) {
                Some(task) => ProjectEvent::Task(task),
                None => ProjectEvent::Ignore("task without id or date_updated".into()),
            }),
            (false, true) => Some(ProjectEvent::TaskGone { task_id }),
            (false, false) => None,
        })
    }
}

/// Applies a routed project event in one transaction (inbox row, project, its conflicts),
/// re-running it if it lost a race on a unique index.
pub async fn apply(
    db: &DatabaseConnection,
    env: &Envelope,
    event: &ProjectEvent,
    attempt: u32,
) -> Result<Outcome, ProcessError> {
    with_race_retries(env.id.as_str(), || apply_once(db, env, event, attempt)).await
}

async fn apply_once(
    db: &DatabaseConnection,
    env: &Envelope,
    event: &ProjectEvent,
    attempt: u32,
) -> Result<Outcome, ProcessError> {
    let txn = db.begin().await?;
    let outcome = apply_in(&txn, env, event, attempt).await?;
    txn.commit().await?;
    Ok(outcome)
}

async fn apply_in(
    txn: &DatabaseTransaction,
    env: &Envelope,
    event: &ProjectEvent,
    attempt: u32,
) -> Result<Outcome, ProcessError> {
    let (status, note) = match event {
        ProjectEvent::Ignore(reason) => (InboxStatus::Ignored, Some(reason.clone())),
        _ => (InboxStatus::Processed, None),
    };
    if inbox::claim(txn, env, status, attempt, note).await? == Claim::Duplicate {
        return Ok(Outcome::Duplicate);
    }
    let event_id = env.id.as_str();
    Ok(match event {
        ProjectEvent::Ignore(_) => Outcome::Ignored,
        ProjectEvent::TaskGone { task_id } => {
            let mut project = store::load_or_new(txn, task_id).await?;
            if project.stored {
                project.deleted = true;
                project.last_event_at_ms = project.last_event_at_ms.max(env.occurred_at_ms);
                settle(txn, &mut project, event_id).await?;
            }
            Outcome::Deleted
        }
        ProjectEvent::Task(task) => {
            let mut project = store::load_or_new(txn, &task.task_id).await?;
            report_refused(
                apply_changes(&mut project.clickup, &task.changes, task.at_ms, event_id),
                event_id,
            );
            project.deleted = false;
            project.client_task_id = task.client_task_id.clone();
            project.last_event_at_ms = project.last_event_at_ms.max(task.at_ms);
            settle(txn, &mut project, event_id).await?;
            Outcome::Project(project.project_id())
        }
        ProjectEvent::Deal(deal) => {
            let Some(task_id) = &deal.task_id else {
                return Ok(Outcome::Ignored);
            };
            // The deal now names this task: a project it billed before lets it go.
            if let Some(mut before) = store::by_deal(txn, &deal.deal_id).await?
                && before.clickup_task_id != *task_id
            {
                release_deal(txn, &mut before, event_id).await?;
            }
            let mut project = store::load_or_new(txn, task_id).await?;
            if project.hubspot_deal_id.as_deref() != Some(deal.deal_id.as_str()) {
                // Another deal billed this project: the newest deal to name it takes over.
                project.hubspot = ProjectSide::default();
                project.hubspot_deal_id = Some(deal.deal_id.clone());
            }
            report_refused(
                apply_changes(&mut project.hubspot, &deal.changes, deal.at_ms, event_id),
                event_id,
            );
            project.last_event_at_ms = project.last_event_at_ms.max(deal.at_ms);
            settle(txn, &mut project, event_id).await?;
            Outcome::Project(project.project_id())
        }
        ProjectEvent::DealGone { deal_id } => {
            if let Some(mut project) = store::by_deal(txn, deal_id).await? {
                release_deal(txn, &mut project, event_id).await?;
            }
            Outcome::Deleted
        }
    })
}

/// Stores on a project the value write-back just wrote to its deal or task (`external_id`), as
/// that side's word marked as ours, and settles the project again, so the write's echo changes
/// nothing. A deal the project no longer bills, or a project gone, is left alone.
pub async fn record_written(
    txn: &DatabaseTransaction,
    id: ProjectId,
    written_to: Source,
    external_id: &str,
    field: ProjectField,
    value: &str,
) -> Result<(), StoreError> {
    let Some(mut project) = store::lock(txn, id).await? else {
        return Ok(());
    };
    let object = external_id.split_once(':').map_or(external_id, |(_, id)| id);
    let side = match written_to {
        Source::HubSpot if project.hubspot_deal_id.as_deref() == Some(object) => &mut project.hubspot,
        Source::ClickUp if project.clickup_task_id == object => &mut project.clickup,
        _ => return Ok(()),
    };
    side.apply(
        field,
        FieldValue {
            value: Some(value.to_owned()),
            at_ms: Utc::now().timestamp_millis(),
            event: WRITE_BACK_EVENT.to_owned(),
        },
    );
    settle(txn, &mut project, WRITE_BACK_EVENT).await
}

/// The project no longer has a deal: HubSpot's side is forgotten.
async fn release_deal(
    txn: &DatabaseTransaction,
    project: &mut Project,
    event: &str,
) -> Result<(), StoreError> {
    project.hubspot_deal_id = None;
    project.hubspot = ProjectSide::default();
    settle(txn, project, event).await
}

/// Finds the project's client, derives its golden values and stores them with its conflicts.
async fn settle(txn: &DatabaseTransaction, project: &mut Project, event: &str) -> Result<(), StoreError> {
    project.client_id = match &project.client_task_id {
        Some(client_task) => store::client_of_task(txn, client_task).await?,
        None => None,
    };
    let merged = merge_project(&project.clickup, &project.hubspot);
    store::save(txn, project, &merged).await?;
    let mismatches = if project.deleted {
        &[][..]
    } else {
        &merged.mismatches[..]
    };
    store::sync_mismatches(txn, project, mismatches, event).await
}

/// Logs the values a source sent that are not valid for their field (they are skipped).
fn report_refused(refused: Vec<(ProjectField, ProjectValueError)>, event: &str) {
    for (field, reason) in refused {
        tracing::warn!(event, field = field.as_str(), %reason, "project value skipped");
    }
}
