//! Write-back: each system gets the golden values the other one owns. HubSpot contacts and
//! companies receive the work statuses ClickUp owns (project, payment); ClickUp tasks receive
//! the identity values HubSpot owns, in the custom fields the task has for them. A value is
//! written only when the record holds something else, never twice while its echo is on the way
//! (a hash of the last written value per record and field), and never over a field an operator
//! has yet to decide (an open field_mismatch). The written value is stored on the record at
//! once, so its echo changes nothing; echoes are also recognised by their sender (HubSpot
//! `changeSource: INTEGRATION` with our app id, ClickUp history items by our token's user).
//! Every planned write goes through the outbox table first (`store::outbox`), so a write a
//! source could not take is retried by the drainer and none is lost across restarts. Projects
//! are written back the same way (`project`).

pub mod drainer;
mod place;
pub mod project;

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use chrono::Utc;
use entity::clients;
use sea_orm::DatabaseConnection;

pub use drainer::{Drained, Drainer};

use crate::{
    config::{OutboxConfig, ProjectsConfig},
    domain::{
        ids::ClientId,
        source::{ObjectKind, Source},
    },
    reconcile::Field,
    saas::{Apis, SaasError},
    sources::mapping::FieldMapping,
    store::{
        StoreError, clients as client_store, conflicts,
        outbox::{self, PlannedWrite},
        records::{self, SourceRecord},
        write_log,
    },
};

/// One value to write to one source record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The system written to.
    pub source: Source,
    /// The record (`contact:…`, `task:…`).
    pub external_id: String,
    /// `contact`, `company` or `task`.
    pub kind: ObjectKind,
    /// Which field.
    pub field: Field,
    /// The golden value.
    pub value: String,
}

/// Why a write-back could not finish; what was written stays written and logged, and what was
/// planned stays in the outbox.
#[derive(Debug, thiserror::Error)]
pub enum WriteBackError {
    /// A source API refused or failed.
    #[error(transparent)]
    Api(#[from] SaasError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for WriteBackError {
    fn from(e: sea_orm::DbErr) -> Self {
        WriteBackError::Store(StoreError::Db(e))
    }
}

/// Which values to write for one client (pure): every record of the system that does not own
/// a field gets the golden value when it holds something else, unless that value was written
/// already, the field is disputed, or it has no place there (a task's name is its own).
pub fn plan(
    client: &clients::Model,
    records: &[SourceRecord],
    written: &HashMap<(Source, String, Field), String>,
    disputed: &HashSet<Field>,
) -> Vec<Write> {
    let mut writes = Vec::new();
    for record in records {
        for field in Field::ALL {
            if field.owner() == record.source || disputed.contains(&field) {
                continue;
            }
            if record.source == Source::ClickUp && field == Field::Name {
                continue;
            }
            let Some(golden) = client_store::value_of(client, field) else {
                continue;
            };
            if record.fields.value(field) == Some(golden) {
                continue;
            }
            let key = (record.source, record.external_id.clone(), field);
            if written.get(&key) == Some(&write_log::digest(golden)) {
                continue;
            }
            writes.push(Write {
                source: record.source,
                external_id: record.external_id.clone(),
                kind: record.kind,
                field,
                value: golden.to_owned(),
            });
        }
    }
    writes
}

/// Plans golden values for the sources into the outbox and sends them at once; what cannot be
/// sent now stays in the outbox for the drainer.
pub struct WriteBack {
    db: DatabaseConnection,
    apis: Apis,
    mapping: Arc<FieldMapping>,
    drainer: Drainer,
}

impl WriteBack {
    /// Write-back over the store through `apis`, naming fields as `mapping` does, retrying as
    /// `outbox` says.
    pub fn new(
        db: DatabaseConnection,
        apis: Apis,
        mapping: Arc<FieldMapping>,
        outbox: &OutboxConfig,
    ) -> Self {
        let drainer = Drainer::new(db.clone(), apis.clone(), mapping.clone(), outbox);
        Self {
            db,
            apis,
            mapping,
            drainer,
        }
    }

    /// The same write-back placing project values as `projects` says (`None`: projects are off).
    pub fn with_projects(mut self, projects: Option<Arc<ProjectsConfig>>) -> Self {
        self.drainer = self.drainer.with_projects(projects);
        self
    }

    /// Plans one client's golden values for its records in both systems into the outbox, then
    /// sends those due; returns how many values were written now.
    pub async fn sync(&self, client: ClientId) -> Result<usize, WriteBackError> {
        let Some(row) = client_store::load_many(&self.db, &[client]).await?.pop() else {
            return Ok(0);
        };
        let linked = records::linked_active(&self.db, client).await?;
        let mut written = HashMap::new();
        for source in [Source::HubSpot, Source::ClickUp] {
            let ids: Vec<String> = linked
                .iter()
                .filter(|r| r.source == source)
                .map(|r| r.external_id.clone())
                .collect();
            for ((id, field), digest) in write_log::load(&self.db, source, &ids).await? {
                written.insert((source, id, field), digest);
            }
        }
        let disputed: HashSet<Field> = conflicts::open_field_mismatches(&self.db, client)
            .await?
            .into_iter()
            .filter_map(|c| c.field.as_deref().and_then(Field::parse))
            .collect();
        let writes: Vec<Write> = plan(&row, &linked, &written, &disputed)
            .into_iter()
            .filter(|w| self.has_place(w))
            .collect();
        if writes.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        // Planning reads the outbox and then writes it: on SQLite the transaction must hold the
        // write lock from its start, or a worker beside it makes the upgrade fail at once with
        // "database is locked" (busy_timeout does not apply to a read lock's upgrade).
        let txn = crate::store::begin_write(&self.db).await?;
        let mut planned = Vec::with_capacity(writes.len());
        for write in &writes {
            let planned_write = PlannedWrite {
                client: row.id,
                source: write.source,
                external_id: &write.external_id,
                kind: write.kind.as_str(),
                field: write.field,
                value: &write.value,
            };
            planned.push(outbox::plan(&txn, &planned_write, now).await?);
        }
        txn.commit().await?;
        Ok(self.drainer.send_planned(&planned, now).await?.sent)
    }

    /// Whether a write can go anywhere: its source has an API client, and a HubSpot write a
    /// property to set (a ClickUp task's custom fields are only known when it is read).
    fn has_place(&self, write: &Write) -> bool {
        match write.source {
            Source::HubSpot => {
                self.apis.hubspot.is_some()
                    && self
                        .mapping
                        .hubspot_property_for(write.kind.as_str(), write.field)
                        .is_some()
            }
            Source::ClickUp => self.apis.clickup.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{FieldSet, FieldValue};

    fn record(source: Source, id: &str, values: &[(Field, &str)]) -> SourceRecord {
        let mut fields = FieldSet::default();
        for (field, value) in values {
            fields.apply(
                *field,
                FieldValue {
                    value: Some((*value).to_owned()),
                    at_ms: 1,
                    event: "e".into(),
                },
            );
        }
        let mut r = SourceRecord::new(
            source,
            id,
            if source == Source::HubSpot {
                ObjectKind::Contact
            } else {
                ObjectKind::Task
            },
        );
        r.fields = fields;
        r
    }

    fn client() -> clients::Model {
        clients::Model {
            id: uuid::Uuid::nil(),
            name: Some("Ana Ruiz".into()),
            given_name: None,
            family_name: None,
            email: Some("ana@example.com".into()),
            document_key: None,
            document_key_check: None,
            phone: Some("+34600111222".into()),
            company: None,
            date_of_birth: None,
            street_number: None,
            street: None,
            address_2: None,
            city: None,
            postcode: None,
            region: None,
            project_status: None,
            payment_status: Some("Paid".into()),
            version: 1,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn each_system_gets_what_the_other_owns_and_only_where_it_differs() {
        let contact = record(Source::HubSpot, "contact:1", &[(Field::Email, "ana@example.com")]);
        let task = record(
            Source::ClickUp,
            "task:t",
            &[(Field::Phone, "+34600111222"), (Field::Name, "Ana")],
        );
        let writes = plan(&client(), &[contact, task], &HashMap::new(), &HashSet::new());
        let got: Vec<(&str, Field, &str)> = writes
            .iter()
            .map(|w| (w.external_id.as_str(), w.field, w.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("contact:1", Field::PaymentStatus, "Paid"),
                ("task:t", Field::Email, "ana@example.com"),
            ]
        );
    }

    #[test]
    fn a_value_already_written_or_under_dispute_is_not_written() {
        let contact = record(Source::HubSpot, "contact:1", &[]);
        let task = record(Source::ClickUp, "task:t", &[]);
        let written = HashMap::from([(
            (Source::HubSpot, "contact:1".to_owned(), Field::PaymentStatus),
            write_log::digest("Paid"),
        )]);
        let disputed = HashSet::from([Field::Email, Field::Phone]);
        assert!(plan(&client(), &[contact, task], &written, &disputed).is_empty());
    }
}
