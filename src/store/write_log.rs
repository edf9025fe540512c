//! What write-back last wrote to each field of each source record, as a hash of the value: the
//! same value is not written twice while the first write's echo is still on its way back. A
//! project's fields are logged as `project.<name>`, apart from a client's of the same name.

use std::collections::HashMap;

use chrono::Utc;
use entity::write_log::{self, Entity as WriteLog};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::OnConflict,
};
use sha2::{Digest, Sha256};

use crate::{
    domain::source::Source,
    reconcile::{Field, project::ProjectField},
    store::projects::FIELD_PREFIX,
};

/// The hash stored for a written value (the value itself already lives in the record).
pub fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The last written value hashes of the given records, by (external id, field).
pub async fn load(
    db: &impl ConnectionTrait,
    source: Source,
    external_ids: &[String],
) -> Result<HashMap<(String, Field), String>, DbErr> {
    if external_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(WriteLog::find()
        .filter(write_log::Column::Source.eq(source.as_str()))
        .filter(write_log::Column::ExternalId.is_in(external_ids.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| Some(((row.external_id, Field::parse(&row.field)?), row.value?)))
        .collect())
}

/// The last written value hashes of a project's deal or task, by (external id, field).
pub async fn load_project(
    db: &impl ConnectionTrait,
    source: Source,
    external_ids: &[String],
) -> Result<HashMap<(String, ProjectField), String>, DbErr> {
    if external_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(WriteLog::find()
        .filter(write_log::Column::Source.eq(source.as_str()))
        .filter(write_log::Column::ExternalId.is_in(external_ids.iter().cloned()))
        .filter(write_log::Column::Field.starts_with(FIELD_PREFIX))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| {
            let field = ProjectField::parse(row.field.strip_prefix(FIELD_PREFIX)?)?;
            Some(((row.external_id, field), row.value?))
        })
        .collect())
}

/// Records that `value` was written to `field` of a record.
pub async fn record(
    db: &impl ConnectionTrait,
    source: Source,
    external_id: &str,
    field: Field,
    value: &str,
) -> Result<(), DbErr> {
    record_named(db, source, external_id, field.as_str(), value).await
}

/// Records that `value` was written to a project's `field` of its deal or task.
pub async fn record_project(
    db: &impl ConnectionTrait,
    source: Source,
    external_id: &str,
    field: ProjectField,
    value: &str,
) -> Result<(), DbErr> {
    let name = format!("{FIELD_PREFIX}{}", field.as_str());
    record_named(db, source, external_id, &name, value).await
}

async fn record_named(
    db: &impl ConnectionTrait,
    source: Source,
    external_id: &str,
    field: &str,
    value: &str,
) -> Result<(), DbErr> {
    let row = write_log::ActiveModel {
        source: Set(source.as_str().to_owned()),
        external_id: Set(external_id.to_owned()),
        field: Set(field.to_owned()),
        value: Set(Some(digest(value))),
        written_at: Set(Utc::now()),
    };
    WriteLog::insert(row)
        .on_conflict(
            OnConflict::columns([
                write_log::Column::Source,
                write_log::Column::ExternalId,
                write_log::Column::Field,
            ])
            .update_columns([write_log::Column::Value, write_log::Column::WrittenAt])
            .to_owned(),
        )
        .exec(db)
        .await
        .map(drop)
}
