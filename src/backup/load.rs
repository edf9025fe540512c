//! Restoring a backup into an empty store, of either backend.
//!
//! Every file is checked before anything is written (its SHA-256 and its row count against the
//! manifest, its schema against the table's), then the migrations run, the store is checked to
//! be empty, and all tables are inserted in one transaction: a restore that fails leaves the
//! store as empty as it found it, and can simply be run again. Rows are decoded one at a time
//! and inserted in multi-row statements, so no table is held in memory.

use std::{fs::File, io::BufReader, path::Path};

use apache_avro::{Reader, Schema, types::Value as Avro};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    sea_query::{Alias, Expr, Query},
};

use super::{
    BackupError, avro,
    manifest::{FileEntry, HashingReader, Manifest},
    schema_version,
    tables::{self, Column, Table},
};
use crate::store;

/// Most bind parameters in one insert: under SQLite's 32,766 and Postgres's 65,535.
const MAX_PARAMS: usize = 30_000;

/// Most rows in one insert: more gains little and costs a bigger statement to plan.
const MAX_ROWS: usize = 1_000;

/// What a restore wrote: rows per table, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
}

/// Restores the backup in `dir` into the (empty) store `db`, migrating it first.
pub async fn restore(db: &DatabaseConnection, dir: &Path) -> Result<Restored, BackupError> {
    let manifest = Manifest::read(dir)?;
    if !schema_version::is_known(&manifest.schema_version) {
        return Err(BackupError::UnknownVersion {
            version: manifest.schema_version.clone(),
            ours: schema_version::current(),
        });
    }
    let catalogue = tables::all()?;
    let mut plan = Vec::with_capacity(manifest.files.len());
    for table in &catalogue {
        if let Some(entry) = manifest.files.iter().find(|e| e.table == table.name) {
            plan.push((table, entry));
        }
    }
    if let Some(stray) = manifest
        .files
        .iter()
        .find(|e| !catalogue.iter().any(|t| t.name == e.table))
    {
        return Err(BackupError::UnknownTable {
            table: stray.table.clone(),
        });
    }
    for (table, entry) in &plan {
        verify(dir, table, entry)?;
    }

    store::migrate(db).await?;
    for table in &catalogue {
        let probe = Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(table.name))
            .limit(1)
            .to_owned();
        if db.query_one(&probe).await?.is_some() {
            return Err(BackupError::StoreNotEmpty {
                table: table.name.to_owned(),
            });
        }
    }

    let txn = store::begin_write(db).await?;
    for (table, entry) in &plan {
        insert_file(&txn, dir, table, entry).await?;
        if let Some(serial) = table.serial {
            advance_sequence(&txn, table.name, serial).await?;
        }
    }
    txn.commit().await?;
    Ok(Restored { manifest })
}

/// Opens a table file named by the manifest (only a plain name inside `dir` is accepted).
fn open(dir: &Path, table: &Table, entry: &FileEntry) -> Result<File, BackupError> {
    if entry.file != table.file_name() {
        return Err(BackupError::Corrupt {
            file: entry.file.clone(),
            reason: format!("table `{}` is kept in `{}`", table.name, table.file_name()),
        });
    }
    let path = dir.join(&entry.file);
    File::open(&path).map_err(|source| BackupError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a whole file: its checksum and row count must match the manifest and every row must
/// decode with a schema that fits the table.
fn verify(dir: &Path, table: &Table, entry: &FileEntry) -> Result<(), BackupError> {
    let corrupt = |reason: String| BackupError::Corrupt {
        file: entry.file.clone(),
        reason,
    };
    let mut hashing = HashingReader::new(BufReader::with_capacity(1 << 20, open(dir, table, entry)?));
    let decoded = (|| -> Result<u64, String> {
        let reader = Reader::new(&mut hashing).map_err(|e| format!("not an Avro file: {e}"))?;
        columns(table, reader.writer_schema())?;
        let mut rows = 0u64;
        for value in reader {
            value.map_err(|e| format!("row {} does not decode: {e}", rows + 1))?;
            rows += 1;
        }
        Ok(rows)
    })();
    let sha256 = hashing
        .finish()
        .map_err(|e| corrupt(format!("cannot be read to its end: {e}")))?;
    if sha256 != entry.sha256 {
        return Err(corrupt(format!(
            "its SHA-256 is {sha256}, the manifest says {} (damaged or truncated)",
            entry.sha256
        )));
    }
    let rows = decoded.map_err(corrupt)?;
    if rows != entry.rows {
        return Err(corrupt(format!(
            "it holds {rows} rows, the manifest says {}",
            entry.rows
        )));
    }
    Ok(())
}

/// The table's columns in the order of the file's fields; every field must be a column of the
/// table with the same Avro type (a backup from an earlier schema may lack later columns).
fn columns<'t>(table: &'t Table, schema: &Schema) -> Result<Vec<&'t Column>, String> {
    let Schema::Record(record) = schema else {
        return Err("its schema is not a record".into());
    };
    let ours = avro::schema(table).map_err(|e| e.to_string())?;
    let Schema::Record(expected) = &ours else {
        return Err("the table's schema is not a record".into());
    };
    record
        .fields
        .iter()
        .map(|field| {
            let column = table
                .column(&field.name)
                .ok_or_else(|| format!("field `{}` is not a column of `{}`", field.name, table.name))?;
            let fits = expected
                .fields
                .iter()
                .any(|e| e.name == field.name && e.schema == field.schema);
            if fits {
                Ok(column)
            } else {
                Err(format!(
                    "field `{}` has a type column `{}` does not take",
                    field.name, column.name
                ))
            }
        })
        .collect()
}

async fn insert_file(
    txn: &DatabaseTransaction,
    dir: &Path,
    table: &Table,
    entry: &FileEntry,
) -> Result<(), BackupError> {
    let corrupt = |reason: String| BackupError::Corrupt {
        file: entry.file.clone(),
        reason,
    };
    let reader = Reader::new(BufReader::with_capacity(1 << 20, open(dir, table, entry)?))
        .map_err(|e| corrupt(format!("not an Avro file: {e}")))?;
    let columns = columns(table, reader.writer_schema()).map_err(corrupt)?;
    let batch_rows = (MAX_PARAMS / columns.len().max(1)).clamp(1, MAX_ROWS);
    let mut batch: Vec<Vec<Expr>> = Vec::with_capacity(batch_rows);
    let mut row_number = 0u64;
    for value in reader {
        row_number += 1;
        let value = value.map_err(|e| corrupt(format!("row {row_number} does not decode: {e}")))?;
        let Avro::Record(fields) = value else {
            return Err(corrupt(format!("row {row_number} is not a record")));
        };
        let mut row = Vec::with_capacity(columns.len());
        for ((_, field), column) in fields.into_iter().zip(&columns) {
            let value = avro::value(column, field)
                .map_err(|reason| corrupt(format!("row {row_number}, column `{}`: {reason}", column.name)))?;
            row.push(Expr::val(value));
        }
        batch.push(row);
        if batch.len() == batch_rows {
            insert_batch(txn, table, &columns, &mut batch).await?;
        }
    }
    insert_batch(txn, table, &columns, &mut batch).await
}

async fn insert_batch(
    txn: &DatabaseTransaction,
    table: &Table,
    columns: &[&Column],
    batch: &mut Vec<Vec<Expr>>,
) -> Result<(), BackupError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(table.name))
        .columns(columns.iter().map(|c| Alias::new(c.name)));
    for row in batch.drain(..) {
        insert.values(row).map_err(|e| BackupError::Encode {
            table: table.name.to_owned(),
            reason: e.to_string(),
        })?;
    }
    txn.execute(&insert).await?;
    Ok(())
}

/// Moves a Postgres sequence past the ids just inserted, so the next row the service inserts
/// does not collide with a restored one. SQLite's AUTOINCREMENT already follows explicit ids.
async fn advance_sequence(txn: &DatabaseTransaction, table: &str, column: &str) -> Result<(), BackupError> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let sql = format!(
        "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
         COALESCE((SELECT MAX(\"{column}\") FROM \"{table}\"), 0) + 1, false)"
    );
    txn.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    Ok(())
}
