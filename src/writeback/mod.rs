//! Write-back: each system gets the golden values the other one owns. HubSpot contacts and
//! companies receive the work statuses ClickUp owns (project, payment); ClickUp tasks receive
//! the identity values HubSpot owns, in the custom fields the task has for them. A value is
//! written only when the record holds something else, never twice while its echo is on the way
//! (a hash of the last written value per record and field), and never over a field an operator
//! has yet to decide (an open field_mismatch). The written value is stored on the record at
//! once, so its echo changes nothing; echoes are also recognised by their sender (HubSpot
//! `changeSource: INTEGRATION` with our app id, ClickUp history items by our token's user).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use entity::clients;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::Value;

use crate::{
    domain::{ids::ClientId, name::fold, source::Source},
    reconcile::{Field, FieldValue, merge::WRITE_BACK_EVENT},
    saas::{ApiError, Apis},
    sources::{mapping::FieldMapping, scalar_text},
    store::{
        StoreError, clients as client_store, conflicts,
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
    pub kind: String,
    /// Which field.
    pub field: Field,
    /// The golden value.
    pub value: String,
}

/// Why a write-back could not finish; what was written stays written and logged.
#[derive(Debug, thiserror::Error)]
pub enum WriteBackError {
    /// A source API refused or failed.
    #[error(transparent)]
    Api(#[from] ApiError),
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
                kind: record.kind.clone(),
                field,
                value: golden.to_owned(),
            });
        }
    }
    writes
}

/// Writes golden values back to the sources through the configured API clients.
pub struct WriteBack {
    db: DatabaseConnection,
    apis: Apis,
    mapping: Arc<FieldMapping>,
}

impl WriteBack {
    /// Write-back over the store through `apis`, naming fields as `mapping` does.
    pub fn new(db: DatabaseConnection, apis: Apis, mapping: Arc<FieldMapping>) -> Self {
        Self { db, apis, mapping }
    }

    /// Brings one client's records in both systems up to its golden values; returns how many
    /// values were written.
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
        let writes = plan(&row, &linked, &written, &disputed);
        if writes.is_empty() {
            return Ok(0);
        }
        let (to_hubspot, to_clickup): (Vec<Write>, Vec<Write>) =
            writes.into_iter().partition(|w| w.source == Source::HubSpot);
        let mut done = self.write_hubspot(to_hubspot).await?;
        done += self.write_clickup(to_clickup).await?;
        Ok(done)
    }

    async fn write_hubspot(&self, writes: Vec<Write>) -> Result<usize, WriteBackError> {
        let Some(api) = &self.apis.hubspot else {
            return Ok(0);
        };
        let mut by_kind: BTreeMap<String, BTreeMap<String, Vec<(String, Write)>>> = BTreeMap::new();
        for write in writes {
            let Some(property) = self.mapping.hubspot_property_for(&write.kind, write.field) else {
                continue;
            };
            let id = object_id(&write.external_id).to_owned();
            by_kind
                .entry(write.kind.clone())
                .or_default()
                .entry(id)
                .or_default()
                .push((property, write));
        }
        let mut done = 0;
        for (kind, objects) in by_kind {
            let updates: Vec<(String, BTreeMap<String, Option<String>>)> = objects
                .iter()
                .map(|(id, props)| {
                    let properties = props
                        .iter()
                        .map(|(p, w)| (p.clone(), Some(w.value.clone())))
                        .collect();
                    (id.clone(), properties)
                })
                .collect();
            api.batch_update(&kind, &updates).await?;
            for (_, write) in objects.into_values().flatten() {
                self.remember(&write).await?;
                done += 1;
            }
        }
        Ok(done)
    }

    async fn write_clickup(&self, writes: Vec<Write>) -> Result<usize, WriteBackError> {
        let Some(api) = &self.apis.clickup else {
            return Ok(0);
        };
        let mut by_task: BTreeMap<String, Vec<Write>> = BTreeMap::new();
        for write in writes {
            by_task
                .entry(object_id(&write.external_id).to_owned())
                .or_default()
                .push(write);
        }
        let mut done = 0;
        for (task_id, writes) in by_task {
            let task = api.task(&task_id).await?;
            let fields = task
                .get("custom_fields")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for write in writes {
                let Some((field_id, value)) = custom_value(&fields, &self.mapping, &write) else {
                    continue;
                };
                api.set_field(&task_id, &field_id, value).await?;
                self.remember(&write).await?;
                done += 1;
            }
        }
        Ok(done)
    }

    /// Logs the write and stores the value on the record, so its echo changes nothing.
    async fn remember(&self, write: &Write) -> Result<(), WriteBackError> {
        let txn = self.db.begin().await?;
        write_log::record(&txn, write.source, &write.external_id, write.field, &write.value).await?;
        let mut record = records::load_or_new(&txn, write.source, &write.external_id, &write.kind).await?;
        if record.is_stored() {
            record.fields.apply(
                write.field,
                FieldValue {
                    value: Some(write.value.clone()),
                    at_ms: chrono::Utc::now().timestamp_millis(),
                    event: WRITE_BACK_EVENT.to_owned(),
                },
            );
            records::save(&txn, &mut record).await?;
        }
        txn.commit().await?;
        crate::metrics::written_back(write.source, write.field.as_str());
        Ok(())
    }
}

/// `contact:123` → `123`.
fn object_id(external_id: &str) -> &str {
    external_id.split_once(':').map_or(external_id, |(_, id)| id)
}

/// The task's custom field for the write's field, and the value in that field type's shape: a
/// dropdown takes its option's UUID (matched by name), everything else the text.
fn custom_value(fields: &[Value], mapping: &FieldMapping, write: &Write) -> Option<(String, Value)> {
    let custom = fields.iter().find(|f| {
        mapping.clickup(
            f.get("id").and_then(Value::as_str),
            f.get("name").and_then(Value::as_str),
        ) == Some(write.field)
    })?;
    let id = custom.get("id").and_then(Value::as_str)?.to_owned();
    if custom.get("type").and_then(Value::as_str) == Some("drop_down") {
        let wanted = fold(&write.value);
        let option = custom
            .pointer("/type_config/options")?
            .as_array()?
            .iter()
            .find(|o| {
                o.get("name")
                    .and_then(scalar_text)
                    .is_some_and(|n| fold(&n) == wanted)
            });
        let Some(option) = option else {
            tracing::warn!(field = %id, value = %write.value, "no dropdown option by that name; not written");
            return None;
        };
        return Some((id, option.get("id")?.clone()));
    }
    Some((id, Value::String(write.value.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::FieldSet;

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
                "contact"
            } else {
                "task"
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
