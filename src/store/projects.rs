//! Projects: rows ↔ `Project`, the client a project's client task is linked to, and the
//! project's field_mismatch conflicts (external id `project:<task id>`, field `project.<name>`,
//! so a client's own mismatches never touch them).

use std::collections::HashSet;

use chrono::Utc;
use entity::{
    conflicts::{self, ConflictKind, ConflictStatus},
    projects, source_records,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::StoreError;
use crate::{
    domain::{
        ids::{ClientId, ProjectId},
        source::Source,
    },
    reconcile::project::{ProjectField, ProjectMerge, ProjectMismatch, ProjectSide},
};

/// Prefix of a project's conflict fields, which keeps them apart from client fields.
pub const FIELD_PREFIX: &str = "project.";

/// One project as the engine works on it: both sides' last word and the links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The row id.
    pub id: Uuid,
    /// Whether the row exists yet.
    pub stored: bool,
    /// The golden client, once known.
    pub client_id: Option<ClientId>,
    /// The ClickUp task that is the project.
    pub clickup_task_id: String,
    /// The HubSpot deal that bills it, once one names the task.
    pub hubspot_deal_id: Option<String>,
    /// The client's ClickUp task, as the project names it.
    pub client_task_id: Option<String>,
    /// What the task last said.
    pub clickup: ProjectSide,
    /// What the deal last said.
    pub hubspot: ProjectSide,
    /// The task was deleted in ClickUp.
    pub deleted: bool,
    /// Newest event applied, Unix ms.
    pub last_event_at_ms: i64,
}

impl Project {
    /// A project of `task_id` not stored yet, with nothing said about it.
    pub fn new(task_id: &str) -> Self {
        Self {
            id: Uuid::now_v7(),
            stored: false,
            client_id: None,
            clickup_task_id: task_id.to_owned(),
            hubspot_deal_id: None,
            client_task_id: None,
            clickup: ProjectSide::default(),
            hubspot: ProjectSide::default(),
            deleted: false,
            last_event_at_ms: 0,
        }
    }

    fn from_model(row: projects::Model) -> Result<Self, StoreError> {
        let side = |value: serde_json::Value, which: &str| {
            serde_json::from_value::<ProjectSide>(value)
                .map_err(|e| StoreError::Corrupt(format!("project {} {which} values: {e}", row.id)))
        };
        let clickup = side(row.clickup_values.clone(), "clickup")?;
        let hubspot = side(row.hubspot_values.clone(), "hubspot")?;
        Ok(Self {
            id: row.id,
            stored: true,
            client_id: row.client_id.map(ClientId::from_uuid),
            clickup,
            hubspot,
            clickup_task_id: row.clickup_task_id,
            hubspot_deal_id: row.hubspot_deal_id,
            client_task_id: row.client_task_id,
            deleted: row.deleted,
            last_event_at_ms: row.last_event_at_ms,
        })
    }

    /// The id its conflicts carry.
    pub fn external_id(&self) -> String {
        format!("project:{}", self.clickup_task_id)
    }

    /// Its id as the rest of the service names it.
    pub fn project_id(&self) -> ProjectId {
        ProjectId::from_uuid(self.id)
    }
}

/// A project by id, as it is now (write-back plans from it).
pub async fn find(db: &impl ConnectionTrait, id: ProjectId) -> Result<Option<Project>, StoreError> {
    let found = projects::Entity::find_by_id(id.as_uuid()).one(db).await?;
    found.map(Project::from_model).transpose()
}

/// A project by id, locked like `load_or_new`.
pub async fn lock(db: &impl ConnectionTrait, id: ProjectId) -> Result<Option<Project>, StoreError> {
    let found = projects::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(db)
        .await?;
    found.map(Project::from_model).transpose()
}

/// The fields of a project an operator has yet to decide (an open field_mismatch).
pub async fn disputed_fields(
    db: &impl ConnectionTrait,
    project: &Project,
) -> Result<HashSet<ProjectField>, StoreError> {
    let fields: Vec<Option<String>> = conflicts::Entity::find()
        .select_only()
        .column(conflicts::Column::Field)
        .filter(conflicts::Column::Kind.eq(ConflictKind::FieldMismatch))
        .filter(conflicts::Column::Status.eq(ConflictStatus::Open))
        .filter(conflicts::Column::ExternalId.eq(project.external_id()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(fields
        .iter()
        .filter_map(|f| f.as_deref()?.strip_prefix(FIELD_PREFIX))
        .filter_map(ProjectField::parse)
        .collect())
}

/// The project of a task, or a new one; the row stays locked (`FOR UPDATE` on Postgres) until
/// the transaction ends, so two events about one project apply in turn. A project not yet
/// stored is guarded by the task id's unique index (the losing insert is retried).
pub async fn load_or_new(db: &impl ConnectionTrait, task_id: &str) -> Result<Project, StoreError> {
    let found = projects::Entity::find()
        .filter(projects::Column::ClickupTaskId.eq(task_id))
        .lock_exclusive()
        .one(db)
        .await?;
    match found {
        Some(row) => Project::from_model(row),
        None => Ok(Project::new(task_id)),
    }
}

/// The project a deal is linked to, locked like `load_or_new`.
pub async fn by_deal(db: &impl ConnectionTrait, deal_id: &str) -> Result<Option<Project>, StoreError> {
    let found = projects::Entity::find()
        .filter(projects::Column::HubspotDealId.eq(deal_id))
        .lock_exclusive()
        .one(db)
        .await?;
    found.map(Project::from_model).transpose()
}

/// Whether a task is a known project (routing asks before reading the task).
pub async fn is_project_task(db: &impl ConnectionTrait, task_id: &str) -> Result<bool, StoreError> {
    Ok(projects::Entity::find()
        .select_only()
        .column(projects::Column::Id)
        .filter(projects::Column::ClickupTaskId.eq(task_id))
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .is_some())
}

/// Whether a task is a client's (a ClickUp source record exists for it).
pub async fn is_client_task(db: &impl ConnectionTrait, task_id: &str) -> Result<bool, StoreError> {
    Ok(source_records::Entity::find()
        .select_only()
        .column(source_records::Column::Id)
        .filter(source_records::Column::Source.eq(Source::ClickUp.as_str()))
        .filter(source_records::Column::ExternalId.eq(format!("task:{task_id}")))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}

/// The golden client a client task feeds, if it is linked.
pub async fn client_of_task(
    db: &impl ConnectionTrait,
    client_task_id: &str,
) -> Result<Option<ClientId>, StoreError> {
    let client: Option<Option<Uuid>> = source_records::Entity::find()
        .select_only()
        .column(source_records::Column::ClientId)
        .filter(source_records::Column::Source.eq(Source::ClickUp.as_str()))
        .filter(source_records::Column::ExternalId.eq(format!("task:{client_task_id}")))
        .into_tuple()
        .one(db)
        .await?;
    Ok(client.flatten().map(ClientId::from_uuid))
}

/// Inserts or updates the project with its golden values; a concurrent insert of the same task
/// (or a second project claiming one deal) fails on a unique index and the caller retries.
pub async fn save(
    db: &impl ConnectionTrait,
    project: &mut Project,
    merged: &ProjectMerge,
) -> Result<(), StoreError> {
    let values = |side: &ProjectSide| {
        serde_json::to_value(side).map_err(|e| StoreError::Corrupt(format!("project values: {e}")))
    };
    let text = |field| merged.value(field).map(str::to_owned);
    let number = |field| merged.value(field).and_then(|v| v.parse::<i64>().ok());
    let now = Utc::now();
    let mut row = projects::ActiveModel {
        id: Set(project.id),
        client_id: Set(project.client_id.map(|c| c.as_uuid())),
        clickup_task_id: Set(project.clickup_task_id.clone()),
        hubspot_deal_id: Set(project.hubspot_deal_id.clone()),
        client_task_id: Set(project.client_task_id.clone()),
        name: Set(text(ProjectField::Name)),
        product_type: Set(text(ProjectField::ProductType)),
        status: Set(text(ProjectField::Status)),
        time_estimate_ms: Set(number(ProjectField::TimeEstimate)),
        time_spent_ms: Set(number(ProjectField::TimeSpent)),
        due_at_ms: Set(number(ProjectField::DueDate)),
        payment_status: Set(text(ProjectField::PaymentStatus)),
        amount_cents: Set(number(ProjectField::Amount)),
        clickup_values: Set(values(&project.clickup)?),
        hubspot_values: Set(values(&project.hubspot)?),
        deleted: Set(project.deleted),
        last_event_at_ms: Set(project.last_event_at_ms),
        updated_at: Set(now),
        ..Default::default()
    };
    if project.stored {
        row.update(db).await?;
    } else {
        row.created_at = Set(now);
        row.insert(db).await?;
        project.stored = true;
    }
    Ok(())
}

/// Makes the project's open field_mismatch conflicts match `mismatches`: opens new ones,
/// refreshes changed values, closes those whose sides agree again.
pub async fn sync_mismatches(
    db: &impl ConnectionTrait,
    project: &Project,
    mismatches: &[ProjectMismatch],
    event: &str,
) -> Result<(), StoreError> {
    let external_id = project.external_id();
    let open = conflicts::Entity::find()
        .filter(conflicts::Column::Kind.eq(ConflictKind::FieldMismatch))
        .filter(conflicts::Column::Status.eq(ConflictStatus::Open))
        .filter(conflicts::Column::ExternalId.eq(external_id.as_str()))
        .all(db)
        .await?;
    let field_name = |m: &ProjectMismatch| format!("{FIELD_PREFIX}{}", m.field.as_str());
    let now = Utc::now();
    for row in &open {
        let still = mismatches
            .iter()
            .find(|m| Some(field_name(m).as_str()) == row.field.as_deref());
        let mut active = row.clone().into_active_model();
        match still {
            Some(m)
                if row.hubspot_value.as_deref() == Some(&m.hubspot)
                    && row.clickup_value.as_deref() == Some(&m.clickup) =>
            {
                continue;
            }
            Some(m) => {
                active.hubspot_value = Set(Some(m.hubspot.clone()));
                active.clickup_value = Set(Some(m.clickup.clone()));
                active.event_id = Set(event.to_owned());
            }
            None => {
                active.status = Set(ConflictStatus::Resolved);
                active.resolution = Set(Some("values agree again".into()));
                active.resolved_by = Set(Some(super::conflicts::SYSTEM.into()));
                active.resolved_at = Set(Some(now));
            }
        }
        active.client_id = Set(project.client_id.map(|c| c.as_uuid()));
        active.updated_at = Set(now);
        active.update(db).await?;
    }
    for m in mismatches {
        let field = field_name(m);
        if open
            .iter()
            .any(|row| row.field.as_deref() == Some(field.as_str()))
        {
            continue;
        }
        // The side that does not own the field brought the disputed value.
        let brought_by = match m.field.owner() {
            Source::HubSpot => Source::ClickUp,
            Source::ClickUp => Source::HubSpot,
        };
        let mut row =
            super::conflicts::open_row(ConflictKind::FieldMismatch, brought_by, &external_id, event);
        row.client_id = Set(project.client_id.map(|c| c.as_uuid()));
        row.field = Set(Some(field));
        row.hubspot_value = Set(Some(m.hubspot.clone()));
        row.clickup_value = Set(Some(m.clickup.clone()));
        row.insert(db).await?;
        crate::metrics::conflict_opened(super::conflicts::kind_name(ConflictKind::FieldMismatch));
    }
    Ok(())
}

/// Every project, oldest first (tests, backups and small reports).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<projects::Model>, StoreError> {
    Ok(projects::Entity::find()
        .order_by_asc(projects::Column::Id)
        .all(db)
        .await?)
}
