//! Changing finished rows a bounded batch at a time: every statement names at most `batch` ids,
//! so pruning a large table never holds its lock for long (a SQLite writer or a Postgres
//! vacuum gets in between batches). The same code runs on both backends.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    TryGetableMany, Value, sea_query::SimpleExpr,
};

/// What a prune does to each row it selects.
#[derive(Debug, Clone)]
pub enum Change<C> {
    /// Removes the row.
    Delete,
    /// Sets these columns; must make the row no longer selected, or the prune never ends.
    Update(Vec<(C, SimpleExpr)>),
}

/// Applies `change` to every row of `E` that `which` selects, `batch` rows per statement, and
/// returns how many rows changed. Each statement re-checks `which`, so a row that changed since
/// it was selected (a dead event replayed meanwhile) is left alone.
pub async fn in_batches<E, V>(
    db: &impl ConnectionTrait,
    which: &Condition,
    id: E::Column,
    change: &Change<E::Column>,
    batch: u64,
) -> Result<u64, DbErr>
where
    E: EntityTrait,
    V: TryGetableMany + Into<Value> + Send + Sync,
{
    let batch = batch.max(1);
    let mut changed = 0;
    loop {
        let ids: Vec<V> = E::find()
            .select_only()
            .column(id)
            .filter(which.clone())
            .limit(batch)
            .into_tuple()
            .all(db)
            .await?;
        let selected = ids.len() as u64;
        if selected == 0 {
            break;
        }
        let these = Condition::all().add(id.is_in(ids)).add(which.clone());
        changed += match change {
            Change::Delete => E::delete_many().filter(these).exec(db).await?.rows_affected,
            Change::Update(sets) => {
                let mut update = E::update_many();
                for (column, value) in sets {
                    update = update.col_expr(*column, value.clone());
                }
                update.filter(these).exec(db).await?.rows_affected
            }
        };
        if selected < batch {
            break;
        }
    }
    Ok(changed)
}

/// How many rows of `E` a prune selecting `which` would change (a dry run).
pub async fn count<E>(db: &impl ConnectionTrait, which: &Condition) -> Result<u64, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
{
    E::find().filter(which.clone()).count(db).await
}
