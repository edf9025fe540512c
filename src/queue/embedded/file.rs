//! The embedded queue's own SQLite file beside the store's, and moving into it the messages
//! queued before it existed.

use entity::queue_messages;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// The file the embedded queue of a SQLite store keeps its messages in: one of its own beside
/// the store's (`clientsync.db` → `clientsync-queue.db`). SQLite lets one connection write a
/// file at a time, so in the store's own file the receiver's enqueue, which the sender waits
/// for, waited behind whole worker transactions; in a file of its own it waits only for other
/// enqueues and the queue's short claims and acks. `None` where nothing is gained: Postgres
/// (row locks, no file lock) and in-memory SQLite (nothing beside it).
pub fn own_file(database_url: &str) -> Option<String> {
    let rest = database_url.strip_prefix("sqlite:")?;
    let (slashes, rest) = match rest.strip_prefix("//") {
        Some(rest) => ("//", rest),
        None => ("", rest),
    };
    let (path, query) = rest.split_once('?').map_or((rest, None), |(p, q)| (p, Some(q)));
    let in_memory = path.is_empty()
        || path.contains(":memory:")
        || query.is_some_and(|q| q.split('&').any(|kv| kv == "mode=memory"));
    if in_memory {
        return None;
    }
    let queue_path = match path.strip_suffix(".db") {
        Some(stem) => format!("{stem}-queue.db"),
        None => format!("{path}-queue"),
    };
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    Some(format!("sqlite:{slashes}{queue_path}{query}"))
}

/// Messages one adopting statement moves.
const ADOPT_PAGE: u64 = 500;

/// Moves the messages of `queue` that the store's own table still holds (queued before the
/// queue had a file of its own) into `into`, oldest first, keeping their state; returns how many
/// moved. Each page is copied before it is deleted, so a crash midway delivers some twice,
/// which the worker's inbox makes harmless, and loses none.
pub async fn adopt(
    from: &DatabaseConnection,
    into: &DatabaseConnection,
    queue: &str,
) -> Result<u64, sea_orm::DbErr> {
    use queue_messages::Column as C;
    let mut moved = 0;
    loop {
        let page = queue_messages::Entity::find()
            .filter(C::Queue.eq(queue))
            .order_by_asc(C::Id)
            .limit(ADOPT_PAGE)
            .all(from)
            .await?;
        if page.is_empty() {
            return Ok(moved);
        }
        let ids: Vec<i64> = page.iter().map(|row| row.id).collect();
        let rows = page.into_iter().map(|row| queue_messages::ActiveModel {
            queue: Set(row.queue),
            body: Set(row.body),
            attempt: Set(row.attempt),
            status: Set(row.status),
            available_at_ms: Set(row.available_at_ms),
            lease_id: Set(row.lease_id),
            lease_until_ms: Set(row.lease_until_ms),
            last_error: Set(row.last_error),
            created_at: Set(row.created_at),
            ..Default::default()
        });
        queue_messages::Entity::insert_many(rows)
            .exec_without_returning(into)
            .await?;
        queue_messages::Entity::delete_many()
            .filter(C::Id.is_in(ids.iter().copied()))
            .exec(from)
            .await?;
        moved += ids.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_store_keeps_its_queue_in_a_file_beside_it() {
        assert_eq!(
            own_file("sqlite:///var/lib/clientsync/clientsync.db?mode=rwc").as_deref(),
            Some("sqlite:///var/lib/clientsync/clientsync-queue.db?mode=rwc")
        );
        assert_eq!(
            own_file("sqlite://data/store?mode=rwc").as_deref(),
            Some("sqlite://data/store-queue?mode=rwc")
        );
        assert_eq!(
            own_file("sqlite:clientsync.db").as_deref(),
            Some("sqlite:clientsync-queue.db")
        );
    }

    #[test]
    fn postgres_and_in_memory_stores_keep_their_queue_inside() {
        assert_eq!(own_file("postgres://u@localhost/clientsync"), None);
        assert_eq!(own_file("sqlite::memory:"), None);
        assert_eq!(own_file("sqlite://shared?mode=memory&cache=shared"), None);
    }
}
