//! Golden clients: exact-key lookups and applying a merge to the row.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use entity::{clients, field_provenance};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect,
};

use super::{StoreError, search};
use crate::{
    domain::{document_key::DocumentKey, ids::ClientId},
    reconcile::Field,
};

/// The client holding an exact key value, if any (indexed lookup).
pub async fn find_by_key(
    db: &impl ConnectionTrait,
    field: Field,
    value: &str,
) -> Result<Option<ClientId>, StoreError> {
    let column = match field {
        Field::Email => clients::Column::Email,
        Field::DocumentKey => clients::Column::DocumentKey,
        _ => return Ok(None),
    };
    let id: Option<uuid::Uuid> = clients::Entity::find()
        .select_only()
        .column(clients::Column::Id)
        .filter(column.eq(value))
        .into_tuple()
        .one(db)
        .await?;
    Ok(id.map(ClientId::from_uuid))
}

/// Inserts a golden client holding `values`.
pub async fn create(
    db: &impl ConnectionTrait,
    values: &[(Field, Option<String>)],
) -> Result<ClientId, StoreError> {
    let row = new_row(ClientId::generate(), values);
    insert_all(db, &[&row]).await?;
    Ok(ClientId::from_uuid(row.id))
}

/// Brings back, empty and under its old id, a client an operator's change removed, so undoing
/// that change leaves the records, audit rows and history that name the client pointing at it.
/// The caller places its records back and re-derives it.
pub async fn restore(db: &impl ConnectionTrait, id: ClientId) -> Result<(), StoreError> {
    insert_all(db, &[&new_row(id, &[])]).await
}

/// The row of a new client holding `values`, at its first version, not yet stored: what
/// `insert_all` writes, and what matching reads of it before it is.
pub fn new_row(id: ClientId, values: &[(Field, Option<String>)]) -> clients::Model {
    let now = Utc::now();
    let get = |field: Field| {
        values
            .iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, v)| v.clone())
    };
    let document_key = get(Field::DocumentKey);
    clients::Model {
        id: id.as_uuid(),
        name: get(Field::Name),
        given_name: get(Field::GivenName),
        family_name: get(Field::FamilyName),
        email: get(Field::Email),
        document_key_check: check_of(document_key.as_deref()),
        document_key,
        phone: get(Field::Phone),
        company: get(Field::Company),
        date_of_birth: get(Field::DateOfBirth),
        street_number: get(Field::StreetNumber),
        street: get(Field::Street),
        address_2: get(Field::Address2),
        city: get(Field::City),
        postcode: get(Field::Postcode),
        region: get(Field::Region),
        project_status: get(Field::ProjectStatus),
        payment_status: get(Field::PaymentStatus),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts new clients' rows and their search terms, one statement per table for all of them
/// (split only under the backends' parameter limits).
pub async fn insert_all(db: &impl ConnectionTrait, rows: &[&clients::Model]) -> Result<(), StoreError> {
    let models: Vec<clients::ActiveModel> = rows
        .iter()
        .map(|row| (*row).clone().into_active_model())
        .collect();
    for chunk in super::insert_chunks::<clients::Entity, _>(models) {
        clients::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    search::index_new(db, rows).await
}

/// The clients holding any of these emails or document keys, with the keys they hold, in one
/// query.
pub async fn holding_keys(
    db: &impl ConnectionTrait,
    emails: &[&str],
    document_keys: &[&str],
) -> Result<Vec<(Option<String>, Option<String>)>, StoreError> {
    let mut any = sea_orm::Condition::any();
    if !emails.is_empty() {
        any = any.add(clients::Column::Email.is_in(emails.iter().copied()));
    }
    if !document_keys.is_empty() {
        any = any.add(clients::Column::DocumentKey.is_in(document_keys.iter().copied()));
    }
    if any.is_empty() {
        return Ok(Vec::new());
    }
    Ok(clients::Entity::find()
        .select_only()
        .columns([clients::Column::Email, clients::Column::DocumentKey])
        .filter(any)
        .into_tuple()
        .all(db)
        .await?)
}

fn check_of(document_key: Option<&str>) -> Option<String> {
    document_key
        .and_then(|v| DocumentKey::parse(v).ok())
        .map(|(_, check)| check.as_str().to_owned())
}

/// Removes a client nothing feeds any more (its provenance and blocking keys go with it).
pub async fn delete(db: &impl ConnectionTrait, id: ClientId) -> Result<(), StoreError> {
    clients::Entity::delete_by_id(id.as_uuid()).exec(db).await?;
    Ok(())
}

/// Loads several clients in one query.
pub async fn load_many(
    db: &impl ConnectionTrait,
    ids: &[ClientId],
) -> Result<Vec<clients::Model>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(clients::Entity::find()
        .filter(clients::Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
        .all(db)
        .await?)
}

/// The version and last change of each of these clients that exists, in one query: what tells
/// a row read earlier from one that has changed since, without reading the row again.
pub async fn versions_of(
    db: &impl ConnectionTrait,
    ids: &[ClientId],
) -> Result<Vec<(uuid::Uuid, i64, DateTime<Utc>)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(clients::Entity::find()
        .select_only()
        .columns([
            clients::Column::Id,
            clients::Column::Version,
            clients::Column::UpdatedAt,
        ])
        .filter(clients::Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
        .into_tuple()
        .all(db)
        .await?)
}

/// Locks a client row until the transaction ends (Postgres; SQLite has one writer anyway), so
/// two records merging into one client recompute it in turn and neither overwrites the other's
/// values with a merge that did not see them. Returns whether the client still exists.
pub async fn lock(db: &impl ConnectionTrait, id: ClientId) -> Result<bool, StoreError> {
    let found: Option<uuid::Uuid> = clients::Entity::find_by_id(id.as_uuid())
        .select_only()
        .column(clients::Column::Id)
        .lock_exclusive()
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// A client row with its provenance by field, in one query; the client must exist.
pub async fn get_with_provenance(
    db: &impl ConnectionTrait,
    id: ClientId,
) -> Result<(clients::Model, BTreeMap<Field, field_provenance::Model>), StoreError> {
    find_with_provenance(db, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("client {id} vanished")))
}

/// A client row with its provenance by field, in one query, if the client exists.
pub async fn find_with_provenance(
    db: &impl ConnectionTrait,
    id: ClientId,
) -> Result<Option<(clients::Model, BTreeMap<Field, field_provenance::Model>)>, StoreError> {
    let Some((client, rows)) = clients::Entity::find_by_id(id.as_uuid())
        .find_with_related(field_provenance::Entity)
        .all(db)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let by_field = rows
        .into_iter()
        .map(|row| {
            let field = Field::parse(&row.field)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown provenance field `{}`", row.field)))?;
            Ok((field, row))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Some((client, by_field)))
}

/// The value a client row holds for a field.
pub fn value_of(client: &clients::Model, field: Field) -> Option<&str> {
    match field {
        Field::Name => client.name.as_deref(),
        Field::GivenName => client.given_name.as_deref(),
        Field::FamilyName => client.family_name.as_deref(),
        Field::Email => client.email.as_deref(),
        Field::DocumentKey => client.document_key.as_deref(),
        Field::Phone => client.phone.as_deref(),
        Field::Company => client.company.as_deref(),
        Field::DateOfBirth => client.date_of_birth.as_deref(),
        Field::StreetNumber => client.street_number.as_deref(),
        Field::Street => client.street.as_deref(),
        Field::Address2 => client.address_2.as_deref(),
        Field::City => client.city.as_deref(),
        Field::Postcode => client.postcode.as_deref(),
        Field::Region => client.region.as_deref(),
        Field::ProjectStatus => client.project_status.as_deref(),
        Field::PaymentStatus => client.payment_status.as_deref(),
    }
}

/// Writes changed golden values and bumps the version; returns whether anything changed.
pub async fn apply(
    db: &impl ConnectionTrait,
    client: clients::Model,
    values: &[(Field, Option<String>)],
) -> Result<bool, StoreError> {
    let changed: Vec<_> = values
        .iter()
        .filter(|(field, value)| value_of(&client, *field) != value.as_deref())
        .collect();
    if changed.is_empty() {
        return Ok(false);
    }
    let version = client.version;
    let renamed = changed.iter().any(|(field, _)| SEARCHED.contains(field));
    let mut row = client.into_active_model();
    for (field, raw) in changed {
        let value = Set(raw.clone());
        match field {
            Field::Name => row.name = value,
            Field::GivenName => row.given_name = value,
            Field::FamilyName => row.family_name = value,
            Field::Email => row.email = value,
            Field::DocumentKey => {
                row.document_key_check = Set(check_of(raw.as_deref()));
                row.document_key = value;
            }
            Field::Phone => row.phone = value,
            Field::Company => row.company = value,
            Field::DateOfBirth => row.date_of_birth = value,
            Field::StreetNumber => row.street_number = value,
            Field::Street => row.street = value,
            Field::Address2 => row.address_2 = value,
            Field::City => row.city = value,
            Field::Postcode => row.postcode = value,
            Field::Region => row.region = value,
            Field::ProjectStatus => row.project_status = value,
            Field::PaymentStatus => row.payment_status = value,
        }
    }
    row.version = Set(version + 1);
    row.updated_at = Set(Utc::now());
    let row = row.update(db).await?;
    if renamed {
        search::reindex(db, &row).await?;
    }
    Ok(true)
}

/// The fields client search finds by name: a change to one rewrites the client's search terms.
const SEARCHED: [Field; 4] = [Field::Name, Field::GivenName, Field::FamilyName, Field::Company];
