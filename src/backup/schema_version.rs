//! The schema version of a backup: the name of the last migration, checked against the
//! migrations this build knows, so a backup is only read by a build that knows its columns.

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait,
    sea_query::{Alias, Query},
};

use super::BackupError;

/// The name of this build's last migration (what a store it has migrated is at).
pub fn current() -> String {
    Migrator::migrations()
        .last()
        .map(|m| m.name().to_owned())
        .unwrap_or_default()
}

/// Whether this build knows migration `name` (so it can read a backup taken at it).
pub fn is_known(name: &str) -> bool {
    Migrator::migrations().iter().any(|m| m.name() == name)
}

/// The version of the store `conn` reads; refused unless every migration of this build, and no
/// other, is applied (the tables are read by this build's entities).
pub async fn applied<C: ConnectionTrait>(conn: &C) -> Result<String, BackupError> {
    let select = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new("seaql_migrations"))
        .to_owned();
    let rows = conn.query_all(&select).await?;
    let mut applied = Vec::with_capacity(rows.len());
    for row in rows {
        applied.push(row.try_get_by_index::<String>(0)?);
    }
    let ours: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    if let Some(unknown) = applied.iter().find(|name| !ours.contains(name)) {
        return Err(BackupError::StoreAhead {
            migration: unknown.clone(),
        });
    }
    if let Some(missing) = ours.iter().find(|name| !applied.contains(name)) {
        return Err(BackupError::StoreBehind {
            migration: missing.clone(),
        });
    }
    Ok(current())
}
