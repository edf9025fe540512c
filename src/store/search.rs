//! The client search index (`client_search`): the folded words of every client's names and
//! their phonetic codes, rewritten whenever a client's names change, and the lookups search
//! runs over it. Exact keys (email, document key, phone, external ids) use the indexes their
//! own tables already have.

use std::collections::BTreeSet;

use entity::{client_search, clients, source_records};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Query, UnionType},
};
use uuid::Uuid;

use super::StoreError;
use crate::{domain::ids::ClientId, lookup::words::SearchWord};

/// A folded word of a name, found by prefix.
pub const WORD: &str = "w";
/// A word's phonetic code, found by sound.
pub const SOUND: &str = "p";

/// The names search reads from a client row.
pub fn names_of(client: &clients::Model) -> [Option<&str>; 4] {
    [
        client.name.as_deref(),
        client.given_name.as_deref(),
        client.family_name.as_deref(),
        client.company.as_deref(),
    ]
}

/// The search terms of a client's names: each word once, and each phonetic code once.
pub fn terms_of(names: [Option<&str>; 4]) -> BTreeSet<(&'static str, String)> {
    let mut terms = BTreeSet::new();
    for word in names.into_iter().flatten().flat_map(SearchWord::words) {
        let code = word.phonetic();
        if !code.is_empty() {
            terms.insert((SOUND, code));
        }
        terms.insert((WORD, word.as_str().to_owned()));
    }
    terms
}

/// Makes the index hold exactly the terms of `client`'s names (call after every write of them).
pub async fn reindex(db: &impl ConnectionTrait, client: &clients::Model) -> Result<(), StoreError> {
    client_search::Entity::delete_many()
        .filter(client_search::Column::ClientId.eq(client.id))
        .exec(db)
        .await?;
    insert(db, client.id, terms_of(names_of(client))).await
}

/// Indexes clients just created (they have no terms yet), in one statement for all of them.
pub async fn index_new(db: &impl ConnectionTrait, clients: &[&clients::Model]) -> Result<(), StoreError> {
    let rows: Vec<client_search::ActiveModel> = clients
        .iter()
        .flat_map(|client| {
            terms_of(names_of(client))
                .into_iter()
                .map(|(kind, term)| client_search::ActiveModel {
                    kind: Set(kind.to_owned()),
                    term: Set(term),
                    client_id: Set(client.id),
                })
        })
        .collect();
    for chunk in super::insert_chunks::<client_search::Entity, _>(rows) {
        client_search::Entity::insert_many(chunk)
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

async fn insert(
    db: &impl ConnectionTrait,
    client: Uuid,
    terms: BTreeSet<(&'static str, String)>,
) -> Result<(), StoreError> {
    if terms.is_empty() {
        return Ok(());
    }
    let rows = terms.into_iter().map(|(kind, term)| client_search::ActiveModel {
        kind: Set(kind.to_owned()),
        term: Set(term),
        client_id: Set(client),
    });
    client_search::Entity::insert_many(rows)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Indexes every client that has names but no terms yet (clients written before the index
/// existed), a page at a time; returns how many. Run at start-up after the migrations; a
/// client the worker writes meanwhile is indexed by its own write, and a term already there is
/// left alone.
pub async fn backfill(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    const PAGE: u64 = 1000;
    let mut done = 0;
    let mut after = Uuid::nil();
    loop {
        let indexed = Query::select()
            .column(client_search::Column::ClientId)
            .from(client_search::Entity)
            .to_owned();
        let page = clients::Entity::find()
            .filter(clients::Column::Id.gt(after))
            .filter(clients::Column::Id.not_in_subquery(indexed))
            .filter(
                Condition::any()
                    .add(clients::Column::Name.is_not_null())
                    .add(clients::Column::GivenName.is_not_null())
                    .add(clients::Column::FamilyName.is_not_null())
                    .add(clients::Column::Company.is_not_null()),
            )
            .order_by_asc(clients::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last().map(|c| c.id) else {
            if done > 0 {
                // A name search is planned by how common each term is: give the planner the
                // counts of what was just written rather than wait for autovacuum (which may
                // be off) while it plans every term as one row.
                db.execute_unprepared("ANALYZE client_search").await?;
            }
            return Ok(done);
        };
        for client in &page {
            insert(db, client.id, terms_of(names_of(client))).await?;
        }
        done += page.len() as u64;
        after = last;
    }
}

/// Clients holding, for every query word, a word it starts or (if `sound`) a word that sounds
/// like it; at most `cap`, lowest ids first.
pub async fn by_name(
    db: &impl ConnectionTrait,
    words: &[SearchWord],
    sound: bool,
    cap: u64,
) -> Result<Vec<ClientId>, StoreError> {
    use client_search::Column as C;
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = client_search::Entity::find()
        .select_only()
        .column(C::ClientId)
        .distinct();
    for (i, word) in words.iter().enumerate() {
        let mut prefix = Condition::all()
            .add(C::Kind.eq(WORD))
            .add(C::Term.gte(word.as_str()));
        if let Some(end) = word.prefix_end() {
            prefix = prefix.add(C::Term.lt(end));
        }
        let mut either = Condition::any().add(prefix);
        let code = word.phonetic();
        if sound && !code.is_empty() {
            either = either.add(Condition::all().add(C::Kind.eq(SOUND)).add(C::Term.eq(code)));
        }
        if i == 0 {
            query = query.filter(either);
        } else {
            let holders = Query::select()
                .column(C::ClientId)
                .from(client_search::Entity)
                .cond_where(either)
                .to_owned();
            query = query.filter(C::ClientId.in_subquery(holders));
        }
    }
    let ids: Vec<Uuid> = query
        .order_by_asc(C::ClientId)
        .limit(cap)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().map(ClientId::from_uuid).collect())
}

/// Clients whose golden value of `column` is `value`, or (for email and document key) that
/// hold a record with it; ids above `after`, at most `limit`, in id order.
pub async fn by_key(
    db: &impl ConnectionTrait,
    column: KeyColumn,
    value: &str,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ClientId>, StoreError> {
    let golden = match column {
        KeyColumn::Email => clients::Column::Email,
        KeyColumn::DocumentKey => clients::Column::DocumentKey,
        KeyColumn::Phone => clients::Column::Phone,
    };
    let record = match column {
        KeyColumn::Email => Some(source_records::Column::Email),
        KeyColumn::DocumentKey => Some(source_records::Column::DocumentKey),
        KeyColumn::Phone => None,
    };
    let Some(record) = record else {
        return page_of(db, Condition::all().add(golden.eq(value)), after, limit).await;
    };
    // One UNION of two index probes: as `golden = v OR id IN (records with v)`, Postgres could
    // use neither index for the OR and scanned every client (see BENCHMARKS.md).
    let holders = Query::select()
        .column(clients::Column::Id)
        .from(clients::Entity)
        .and_where(golden.eq(value))
        .union(
            UnionType::Distinct,
            Query::select()
                .column(source_records::Column::ClientId)
                .from(source_records::Entity)
                .and_where(record.eq(value))
                .and_where(source_records::Column::ClientId.is_not_null())
                .to_owned(),
        )
        .to_owned();
    page_of(
        db,
        Condition::all().add(clients::Column::Id.in_subquery(holders)),
        after,
        limit,
    )
    .await
}

/// Which exact key a search is by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyColumn {
    /// `clients.email` and records' emails.
    Email,
    /// `clients.document_key` and records' document keys.
    DocumentKey,
    /// `clients.phone`.
    Phone,
}

/// Clients holding a record with one of these `(source, external_id)` pairs.
pub async fn by_external_id(
    db: &impl ConnectionTrait,
    pairs: &[(&str, String)],
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ClientId>, StoreError> {
    let mut any = Condition::any();
    for (source, id) in pairs {
        any = any.add(
            Condition::all()
                .add(source_records::Column::Source.eq(*source))
                .add(source_records::Column::ExternalId.eq(id.as_str())),
        );
    }
    if any.is_empty() {
        return Ok(Vec::new());
    }
    let holders = Query::select()
        .column(source_records::Column::ClientId)
        .from(source_records::Entity)
        .cond_where(any)
        .and_where(source_records::Column::ClientId.is_not_null())
        .to_owned();
    page_of(
        db,
        Condition::all().add(clients::Column::Id.in_subquery(holders)),
        after,
        limit,
    )
    .await
}

async fn page_of(
    db: &impl ConnectionTrait,
    which: Condition,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ClientId>, StoreError> {
    let mut query = clients::Entity::find()
        .select_only()
        .column(clients::Column::Id)
        .filter(which);
    if let Some(after) = after {
        query = query.filter(clients::Column::Id.gt(after));
    }
    let ids: Vec<Uuid> = query
        .order_by_asc(clients::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().map(ClientId::from_uuid).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clients_terms_are_its_name_words_and_their_sounds_once_each() {
        let terms = terms_of([Some("Søren Hansen"), Some("Søren"), Some("Hansen"), None]);
        let words: Vec<&str> = terms
            .iter()
            .filter(|(k, _)| *k == WORD)
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(words, ["hansen", "soren"]);
        assert_eq!(terms.iter().filter(|(k, _)| *k == SOUND).count(), 2, "{terms:?}");
    }
}
