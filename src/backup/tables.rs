//! Which tables a backup holds, in the order a restore writes them (every table before the
//! tables whose foreign keys point at it), and which it leaves out and why. Columns come from
//! the SeaORM entities, so a column added to an entity is backed up without an edit here; a test
//! holds this list and the entities to the schema the migrations create.

use entity::{
    audit_log, backfill_cursors, bulk_jobs, client_search, clients, conflicts, decisions, field_history,
    field_provenance, import_runs, inbox_events, match_exclusions, match_keys, operator_tokens, operators,
    outbox, projects, source_records, write_log,
};
use sea_orm::{
    ColumnTrait, EntityTrait, Iterable, PrimaryKeyToColumn, PrimaryKeyTrait, sea_query::ColumnType,
};

use super::BackupError;

/// How a column's values are carried: the few SQL types the migrations use, each with one Avro
/// type (docs/backup.md has the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text of any length (`text`, `varchar(n)`, string enums).
    Text,
    /// A UUID (Avro `string` with `logicalType: uuid`).
    Uuid,
    /// A 32-bit integer.
    Int,
    /// A 64-bit integer.
    Long,
    /// A boolean.
    Bool,
    /// A double-precision float.
    Double,
    /// A UTC instant (Avro `long` with `logicalType: timestamp-nanos`: SQLite keeps nanoseconds).
    Timestamp,
    /// A JSON document, carried as its text.
    Json,
}

/// One column of a backed-up table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name in the database and in the Avro record.
    pub name: &'static str,
    /// How its values are carried.
    pub kind: Kind,
    /// Whether it takes NULL (an Avro union with `null` first).
    pub nullable: bool,
}

/// One backed-up table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Its name, and the stem of its file (`clients.avro`).
    pub name: &'static str,
    /// Its columns, in entity order (the order of the Avro fields).
    pub columns: Vec<Column>,
    /// Its primary key columns: rows are written in this order, so two backups of the same store
    /// are the same rows in the same order.
    pub key: Vec<&'static str>,
    /// The column a Postgres sequence fills (`bigserial`), set past the restored ids afterwards.
    pub serial: Option<&'static str>,
}

impl Table {
    /// The file this table is written to inside a backup directory.
    pub fn file_name(&self) -> String {
        format!("{}.avro", self.name)
    }

    /// The column named `name`, if the table has one.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Tables the migrations create that a backup leaves out, each with the reason (docs/backup.md).
pub const SKIPPED: [(&str, &str); 6] = [
    (
        "queue_messages",
        "the embedded queue's in-flight copies of events: delivery state (leases, attempts) of one running process, not golden data; drain the queue before a backup that must carry them",
    ),
    (
        "console_sessions",
        "browser sessions of the console: they expire within hours and a restored store starts with operators logging in again",
    ),
    // The events report's rollup: derived from inbox_events and rolled again on the first read
    // of a restored store. Days whose inbox rows retention had already deleted then count
    // the rows the backup holds (the rollup keeps them only in the store it was built in).
    (
        "report_event_counts",
        "the events report's rollup of closed days, counted again from the restored inbox on the first report",
    ),
    (
        "report_rolled_days",
        "which days the events report's rollup holds; a restored store has none, so every day is counted again",
    ),
    (
        "report_late_events",
        "marks that make the events report count a day again; a restored store counts every day anyway",
    ),
    (
        "seaql_migrations",
        "written by the migrations a restore runs first",
    ),
];

/// Every backed-up table, parents before children (a restore inserts in this order).
pub fn all() -> Result<Vec<Table>, BackupError> {
    Ok(vec![
        table::<clients::Entity>()?,
        table::<operators::Entity>()?,
        table::<source_records::Entity>()?,
        table::<field_provenance::Entity>()?,
        table::<field_history::Entity>()?,
        table::<projects::Entity>()?,
        table::<match_keys::Entity>()?,
        table::<client_search::Entity>()?,
        table::<conflicts::Entity>()?,
        table::<decisions::Entity>()?,
        table::<match_exclusions::Entity>()?,
        table::<operator_tokens::Entity>()?,
        table::<audit_log::Entity>()?,
        table::<outbox::Entity>()?,
        table::<write_log::Entity>()?,
        table::<backfill_cursors::Entity>()?,
        table::<bulk_jobs::Entity>()?,
        table::<import_runs::Entity>()?,
        table::<inbox_events::Entity>()?,
    ])
}

/// The table an entity maps, read from its column definitions.
fn table<E: EntityTrait + Default>() -> Result<Table, BackupError> {
    let name = E::default().table_name();
    let columns = E::Column::iter()
        .map(|column| {
            let def = column.def();
            Ok(Column {
                name: column_name(column),
                kind: kind(def.get_column_type()).ok_or_else(|| BackupError::UnsupportedColumn {
                    table: name.to_owned(),
                    column: column_name(column).to_owned(),
                })?,
                nullable: def.is_null(),
            })
        })
        .collect::<Result<Vec<_>, BackupError>>()?;
    let key: Vec<&'static str> = E::PrimaryKey::iter()
        .map(|k| column_name(k.into_column()))
        .collect();
    let serial = match (
        key.as_slice(),
        <E::PrimaryKey as PrimaryKeyTrait>::auto_increment(),
    ) {
        ([only], true) => Some(*only),
        _ => None,
    };
    Ok(Table {
        name,
        columns,
        key,
        serial,
    })
}

fn column_name<C: ColumnTrait>(column: C) -> &'static str {
    // Entity column names are static identifiers; `as_str` borrows from the enum's table.
    column.as_str()
}

fn kind(column_type: &ColumnType) -> Option<Kind> {
    Some(match column_type {
        ColumnType::Char(_) | ColumnType::String(_) | ColumnType::Text => Kind::Text,
        ColumnType::Uuid => Kind::Uuid,
        ColumnType::Integer | ColumnType::SmallInteger | ColumnType::TinyInteger => Kind::Int,
        ColumnType::BigInteger => Kind::Long,
        ColumnType::Boolean => Kind::Bool,
        ColumnType::Double | ColumnType::Float => Kind::Double,
        ColumnType::TimestampWithTimeZone => Kind::Timestamp,
        ColumnType::Json | ColumnType::JsonBinary => Kind::Json,
        _ => return None,
    })
}
