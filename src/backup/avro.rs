//! Rows as Avro records: the schema of a table (carried in each file, so any Avro reader knows
//! the columns), a database row to a record, and a record's fields back to values to insert.

use apache_avro::{Schema, types::Value as Avro};
use chrono::{DateTime, Utc};
use sea_orm::{QueryResult, sea_query::Value as Sql};
use serde_json::json;
use uuid::Uuid;

use super::{
    BackupError,
    tables::{Column, Kind, Table},
};

/// The Avro record schema of `table`: one field per column, nullable columns as `["null", T]`.
pub fn schema(table: &Table) -> Result<Schema, BackupError> {
    let fields: Vec<_> = table
        .columns
        .iter()
        .map(|column| {
            let plain = match column.kind {
                Kind::Text => json!("string"),
                Kind::Uuid => json!({"type": "string", "logicalType": "uuid"}),
                Kind::Int => json!("int"),
                Kind::Long => json!("long"),
                Kind::Bool => json!("boolean"),
                Kind::Double => json!("double"),
                Kind::Timestamp => json!({"type": "long", "logicalType": "timestamp-nanos"}),
                Kind::Json => json!({"type": "string", "clientsync.json": true}),
            };
            let field_type = if column.nullable {
                json!(["null", plain])
            } else {
                plain
            };
            json!({"name": column.name, "type": field_type})
        })
        .collect();
    let text = json!({
        "type": "record",
        "name": table.name,
        "namespace": "clientsync.backup",
        "fields": fields,
    })
    .to_string();
    Schema::parse_str(&text).map_err(|e| BackupError::Schema {
        table: table.name.to_owned(),
        reason: e.to_string(),
    })
}

/// A database row (columns selected in `table.columns` order) as an Avro record.
pub fn record(table: &Table, row: &QueryResult) -> Result<Avro, BackupError> {
    let mut fields = Vec::with_capacity(table.columns.len());
    for (index, column) in table.columns.iter().enumerate() {
        let unreadable = |e: sea_orm::DbErr| BackupError::Unreadable {
            table: table.name.to_owned(),
            column: column.name.to_owned(),
            reason: e.to_string(),
        };
        let value: Option<Avro> = match column.kind {
            Kind::Text => row
                .try_get_by_index::<Option<String>>(index)
                .map_err(unreadable)?
                .map(Avro::String),
            Kind::Uuid => row
                .try_get_by_index::<Option<Uuid>>(index)
                .map_err(unreadable)?
                .map(Avro::Uuid),
            Kind::Int => row
                .try_get_by_index::<Option<i32>>(index)
                .map_err(unreadable)?
                .map(Avro::Int),
            Kind::Long => row
                .try_get_by_index::<Option<i64>>(index)
                .map_err(unreadable)?
                .map(Avro::Long),
            Kind::Bool => row
                .try_get_by_index::<Option<bool>>(index)
                .map_err(unreadable)?
                .map(Avro::Boolean),
            Kind::Double => row
                .try_get_by_index::<Option<f64>>(index)
                .map_err(unreadable)?
                .map(Avro::Double),
            Kind::Timestamp => match row
                .try_get_by_index::<Option<DateTime<Utc>>>(index)
                .map_err(unreadable)?
            {
                None => None,
                Some(at) => Some(Avro::TimestampNanos(at.timestamp_nanos_opt().ok_or_else(
                    || BackupError::Unreadable {
                        table: table.name.to_owned(),
                        column: column.name.to_owned(),
                        reason: format!("{at} is outside the years 1677-2262 a nanosecond timestamp holds"),
                    },
                )?)),
            },
            Kind::Json => row
                .try_get_by_index::<Option<serde_json::Value>>(index)
                .map_err(unreadable)?
                .map(|json| Avro::String(json.to_string())),
        };
        let value = match (value, column.nullable) {
            (Some(value), true) => Avro::Union(1, Box::new(value)),
            (None, true) => Avro::Union(0, Box::new(Avro::Null)),
            (Some(value), false) => value,
            (None, false) => {
                return Err(BackupError::Unreadable {
                    table: table.name.to_owned(),
                    column: column.name.to_owned(),
                    reason: "NULL in a NOT NULL column".into(),
                });
            }
        };
        fields.push((column.name.to_owned(), value));
    }
    Ok(Avro::Record(fields))
}

/// A record's field as the value to insert into `column` (a typed NULL for a null, so Postgres
/// binds it to the column's type).
pub fn value(column: &Column, field: Avro) -> Result<Sql, String> {
    let field = match field {
        Avro::Union(_, inner) => *inner,
        other => other,
    };
    Ok(match (column.kind, field) {
        (Kind::Text, Avro::Null) => Sql::from(None::<String>),
        (Kind::Text, Avro::String(text)) => Sql::from(Some(text)),
        (Kind::Uuid, Avro::Null) => Sql::from(None::<Uuid>),
        (Kind::Uuid, Avro::Uuid(id)) => Sql::from(Some(id)),
        (Kind::Uuid, Avro::String(text)) => Sql::from(Some(
            Uuid::parse_str(&text).map_err(|e| format!("`{text}` is not a UUID: {e}"))?,
        )),
        (Kind::Int, Avro::Null) => Sql::from(None::<i32>),
        (Kind::Int, Avro::Int(n)) => Sql::from(Some(n)),
        (Kind::Long, Avro::Null) => Sql::from(None::<i64>),
        (Kind::Long, Avro::Long(n)) => Sql::from(Some(n)),
        (Kind::Bool, Avro::Null) => Sql::from(None::<bool>),
        (Kind::Bool, Avro::Boolean(b)) => Sql::from(Some(b)),
        (Kind::Double, Avro::Null) => Sql::from(None::<f64>),
        (Kind::Double, Avro::Double(x)) => Sql::from(Some(x)),
        (Kind::Timestamp, Avro::Null) => Sql::from(None::<DateTime<Utc>>),
        (Kind::Timestamp, Avro::TimestampNanos(ns)) => {
            Sql::from(Some(DateTime::<Utc>::from_timestamp_nanos(ns)))
        }
        (Kind::Json, Avro::Null) => Sql::from(None::<serde_json::Value>),
        (Kind::Json, Avro::String(text)) => Sql::from(Some(
            serde_json::from_str::<serde_json::Value>(&text).map_err(|e| format!("not JSON: {e}"))?,
        )),
        (kind, other) => {
            // The kind, never the value: a value may be a password hash.
            let found = apache_avro::schema::SchemaKind::from(&other);
            return Err(format!("a {found:?} where a {kind:?} belongs"));
        }
    })
}
