//! What a round left in the store, in words: roles instead of ids, placeholders instead of the
//! round's values, so that two rounds that ended alike read alike and a raced round can be
//! compared with the rounds played in each serial order. And the invariants no round may break.

use std::collections::{BTreeMap, HashSet};

use entity::{
    audit_log, clients, conflicts,
    conflicts::{ConflictKind, ConflictStatus},
    decisions, field_provenance, outbox,
    outbox::OutboxStatus,
    source_records::{self, RecordStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::round::{Placed, Round, Store};

/// Names for the round's clients: C and D by what they were at the start, any other by the
/// roles of the records it holds.
pub struct Names {
    known: BTreeMap<Uuid, String>,
    conflict: Option<Uuid>,
    round: Round,
}

impl Names {
    pub async fn of(store: &Store, round: &Round, placed: &Placed) -> Self {
        let mut known = BTreeMap::from([
            (placed.c.as_uuid(), "C".to_owned()),
            (placed.d.as_uuid(), "D".to_owned()),
        ]);

        let mut roles: BTreeMap<Uuid, Vec<&str>> = BTreeMap::new();
        for (record, role) in records(store, round).await {
            if let Some(client) = record.client_id {
                roles.entry(client).or_default().push(role);
            }
        }
        for (client, held) in roles {
            known
                .entry(client)
                .or_insert_with(|| format!("the client of {}", held.join("+")));
        }
        Self {
            known,
            conflict: placed.conflict,
            round: round.clone(),
        }
    }

    fn client(&self, id: Option<Uuid>) -> String {
        match id {
            None => "no client".to_owned(),
            Some(id) => self
                .known
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "a client of no round record".to_owned()),
        }
    }

    /// `line` with the round's clients, names and token replaced by what they stand for.
    pub fn words(&self, line: &str) -> String {
        let mut line = line.to_owned();
        for (id, name) in &self.known {
            line = line.replace(&id.to_string(), name);
        }
        if let Some(conflict) = self.conflict {
            line = line.replace(&conflict.to_string(), "the raced conflict");
        }
        line.replace(&self.round.given, "G")
            .replace(&self.round.family, "F")
            .replace(&self.round.token, "#")
    }
}

/// The round's records with their roles.
async fn records(store: &Store, round: &Round) -> Vec<(source_records::Model, &'static str)> {
    let roles = round.records();
    let ids: Vec<String> = roles.iter().map(|(_, id, _)| id.clone()).collect();
    source_records::Entity::find()
        .filter(source_records::Column::ExternalId.is_in(ids))
        .all(&store.db)
        .await
        .expect("records")
        .into_iter()
        .filter_map(|r| {
            let role = roles
                .iter()
                .find(|(source, id, _)| source.as_str() == r.source && *id == r.external_id)?
                .2;
            Some((r, role))
        })
        .collect()
}

/// Every line describing the round's records, clients, values, pins, conflicts, decisions,
/// outbox rows and the racer's audit rows, sorted.
pub async fn settled(store: &Store, round: &Round, names: &Names) -> Vec<String> {
    let mut lines = Vec::new();
    let held = records(store, round).await;
    let role_of = |external_id: &str| {
        held.iter()
            .find(|(r, _)| r.external_id == external_id)
            .map_or("a record of no role", |(_, role)| *role)
    };
    for (r, role) in &held {
        lines.push(format!(
            "record {role} sits on {} as {:?}, placed by {:?}",
            names.client(r.client_id),
            r.status,
            r.placed_by
        ));
    }
    let ids: Vec<Uuid> = names.known.keys().copied().collect();
    let rows = clients::Entity::find()
        .filter(clients::Column::Id.is_in(ids.clone()))
        .all(&store.db)
        .await
        .expect("clients");
    for id in &ids {
        match rows.iter().find(|row| row.id == *id) {
            None => lines.push(format!("{} is gone", names.client(Some(*id)))),
            Some(row) => lines.push(format!(
                "{} holds name {:?}, email {:?}, phone {:?}, document key {:?}",
                names.client(Some(*id)),
                row.name,
                row.email,
                row.phone,
                row.document_key
            )),
        }
    }
    for p in field_provenance::Entity::find()
        .filter(field_provenance::Column::ClientId.is_in(ids.clone()))
        .all(&store.db)
        .await
        .expect("provenance")
    {
        lines.push(format!(
            "{}'s {} is {:?} from {} {}{}",
            names.client(Some(p.client_id)),
            p.field,
            p.value,
            p.source,
            p.external_id,
            if p.pinned { ", pinned" } else { "" }
        ));
    }
    let externals: Vec<String> = held.iter().map(|(r, _)| r.external_id.clone()).collect();
    for c in conflicts::Entity::find().all(&store.db).await.expect("conflicts") {
        let ours = externals.contains(&c.external_id) || c.client_id.is_some_and(|id| ids.contains(&id));
        if ours {
            lines.push(format!(
                "{:?} conflict about {} on {} is {:?}: {:?} {:?}/{:?}, resolved by {:?} ({:?})",
                c.kind,
                role_of(&c.external_id),
                names.client(c.client_id),
                c.status,
                c.field,
                c.hubspot_value,
                c.clickup_value,
                c.resolved_by,
                c.resolution
            ));
        }
    }
    for d in decisions::Entity::find()
        .filter(decisions::Column::ExternalId.is_in(externals.clone()))
        .all(&store.db)
        .await
        .expect("decisions")
    {
        lines.push(format!(
            "{:?} decision about {}: to {}, from {}",
            d.kind,
            role_of(&d.external_id),
            names.client(d.client_id),
            names.client(d.from_client_id)
        ));
    }
    for o in outbox::Entity::find().all(&store.db).await.expect("outbox") {
        if o.client_id.is_some_and(|id| ids.contains(&id)) || externals.contains(&o.external_id) {
            lines.push(format!(
                "write-back of {} {} to {} from {}: {:?}",
                o.field,
                o.value,
                o.external_id,
                names.client(o.client_id),
                o.status
            ));
        }
    }
    for a in racer_audit(store, round).await {
        lines.push(format!(
            "the racer's {} on {} {}: {:?} -> {:?}",
            a.action, a.target_kind, a.target_id, a.before, a.after
        ));
    }
    let mut lines: Vec<String> = lines.iter().map(|l| names.words(l)).collect();
    lines.sort();
    lines
}

/// The audit rows of the round's operator.
pub async fn racer_audit(store: &Store, round: &Round) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Actor.eq(round.racer().name()))
        .all(&store.db)
        .await
        .expect("audit")
}

/// Nothing in the whole store points at a client that is gone: no value or pin, no open
/// conflict, no pending write-back; and no live record sits on no client without a conflict
/// saying why (a removed client's records would be left so by the foreign key).
pub async fn nothing_points_at_a_removed_client(store: &Store) {
    let db = &store.db;
    let live: HashSet<Uuid> = clients::Entity::find()
        .all(db)
        .await
        .expect("clients")
        .into_iter()
        .map(|c| c.id)
        .collect();
    for p in field_provenance::Entity::find()
        .all(db)
        .await
        .expect("provenance")
    {
        assert!(live.contains(&p.client_id), "a value of a removed client: {p:?}");
    }
    let open = conflicts::Entity::find()
        .filter(conflicts::Column::Status.eq(ConflictStatus::Open))
        .all(db)
        .await
        .expect("conflicts");
    for c in &open {
        match c.client_id {
            Some(id) => assert!(live.contains(&id), "an open conflict on a removed client: {c:?}"),
            None => assert_ne!(
                c.kind,
                ConflictKind::FieldMismatch,
                "a field mismatch of no client: {c:?}"
            ),
        }
    }
    for o in outbox::Entity::find()
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .all(db)
        .await
        .expect("outbox")
    {
        assert!(
            o.client_id.is_none_or(|id| live.contains(&id)),
            "a pending write-back from a removed client: {o:?}"
        );
    }
    let unplaced = source_records::Entity::find()
        .filter(source_records::Column::Status.eq(RecordStatus::Active))
        .filter(source_records::Column::ClientId.is_null())
        .all(db)
        .await
        .expect("records");
    for r in unplaced {
        assert!(
            open.iter().any(|c| c.source == r.source
                && c.external_id == r.external_id
                && c.kind != ConflictKind::FieldMismatch),
            "a live record on no client, with no conflict saying why: {r:?}"
        );
    }
}

/// How many deadlocks Postgres broke in the store's database, read once the store is closed
/// and its sessions gone (a session reports what it counted when it ends); none on SQLite.
/// A deadlock costs a second (`deadlock_timeout`) and an error to whichever side it aborts,
/// which the operator's retries would otherwise hide.
pub async fn deadlocks(store: Store) -> i64 {
    let Some(name) = store.postgres.clone() else {
        return 0;
    };
    store.db.close().await.expect("closed");
    let admin = sea_orm::Database::connect(format!("{}/postgres", crate::helpers::postgres_url()))
        .await
        .expect("admin connection");
    let count = |sql: String| {
        let admin = &admin;
        async move {
            let row = admin
                .query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql))
                .await
                .expect("statistics")
                .expect("a row");
            row.try_get_by_index::<i64>(0).expect("a count")
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await
        > 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the store's sessions did not end"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let broken = count(format!(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = '{name}'"
    ))
    .await;
    admin.close().await.ok();
    broken
}
