//! Where a record goes once its exact keys have been looked up: the rules that make the golden
//! list a function of the set of events, whatever their order.
//!
//! - A record's *join set* is its own client and every client holding one of its keys.
//! - If every record of the join set and the record itself can be one person, the join set
//!   becomes one client: the record links, a client that only the record fed goes away (a
//!   *move*), or several clients merge. Arrival order only decides which client id survives.
//! - Records contradict each other only when they carry two different document keys (two
//!   taxpayers) or are two objects of the same source and kind (a source keeps its objects
//!   apart on purpose: only HubSpot merges two contacts). A differing email or phone is a
//!   field mismatch for an operator, never a reason to keep clients apart.
//! - Otherwise it is a key collision: the record sits on no client until an operator decides
//!   (or a later event removes the contradiction), whichever order its keys arrived in, and
//!   the clients keep the records they hold.

use crate::domain::{
    ids::ClientId,
    source::{ObjectKind, Source},
};

/// What placement needs to know of one source record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    /// The system the record comes from.
    pub source: Source,
    /// Its object kind there.
    pub kind: ObjectKind,
    /// Its normalized document key, if it has one.
    pub document_key: Option<&'a str>,
}

/// A client of the join set with the records it holds (the placed record excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder<'a> {
    /// The client.
    pub client: ClientId,
    /// Its other active records.
    pub members: Vec<Member<'a>>,
}

/// What to do with a record whose keys were looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// No client holds its keys and it has none: match it fuzzily or make a client.
    Unmatched,
    /// It belongs to this client, where it may already sit.
    Link(ClientId),
    /// These clients are one person: `absorbed` merge into `into`, and the record joins it.
    Merge {
        /// The surviving client.
        into: ClientId,
        /// Clients whose records move to `into`; each is then removed.
        absorbed: Vec<ClientId>,
    },
    /// Its keys point at clients that cannot be one person: it sits on none of them.
    Collision {
        /// Every client of the join set, the record's own first when it had one.
        clients: Vec<ClientId>,
    },
}

/// Whether a group of records may feed one client.
pub fn can_share_client<'a>(members: impl IntoIterator<Item = Member<'a>>) -> bool {
    let mut document_key: Option<&str> = None;
    let mut objects: Vec<(Source, ObjectKind)> = Vec::new();
    for m in members {
        if let Some(key) = m.document_key {
            match document_key {
                Some(held) if held != key => return false,
                _ => document_key = Some(key),
            }
        }
        if objects.contains(&(m.source, m.kind)) {
            return false;
        }
        objects.push((m.source, m.kind));
    }
    true
}

/// Places `record`, now linked to `own` (if anywhere), whose keys point at the clients in
/// `holders` (`own` included, when it has one).
pub fn place(record: Member<'_>, own: Option<ClientId>, holders: &[Holder<'_>]) -> Placement {
    let mut clients: Vec<ClientId> = Vec::with_capacity(holders.len());
    for id in own.into_iter().chain(holders.iter().map(|h| h.client)) {
        if !clients.contains(&id) {
            clients.push(id);
        }
    }
    if clients.is_empty() {
        return Placement::Unmatched;
    }
    let everyone = std::iter::once(record).chain(holders.iter().flat_map(|h| h.members.iter().copied()));
    if !can_share_client(everyone) {
        return Placement::Collision { clients };
    }
    if let [only] = clients.as_slice() {
        return Placement::Link(*only);
    }
    // The client holding the most records survives, so the fewest rows move; ties go to the
    // record's own client, then to the lowest id.
    let size = |id: ClientId| {
        holders
            .iter()
            .find(|h| h.client == id)
            .map_or(0, |h| h.members.len())
    };
    let into = clients
        .iter()
        .copied()
        .max_by_key(|id| (size(*id), Some(*id) == own, std::cmp::Reverse(*id)))
        .unwrap_or(clients[0]);
    let absorbed = clients.into_iter().filter(|id| *id != into).collect();
    Placement::Merge { into, absorbed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(key: Option<&str>) -> Member<'_> {
        Member {
            source: Source::HubSpot,
            kind: ObjectKind::Contact,
            document_key: key,
        }
    }

    fn task(key: Option<&str>) -> Member<'_> {
        Member {
            source: Source::ClickUp,
            kind: ObjectKind::Task,
            document_key: key,
        }
    }

    fn holder<'a>(client: ClientId, members: Vec<Member<'a>>) -> Holder<'a> {
        Holder { client, members }
    }

    #[test]
    fn a_record_whose_keys_find_nothing_is_unmatched() {
        assert_eq!(place(task(Some("1Z")), None, &[]), Placement::Unmatched);
    }

    #[test]
    fn a_record_alone_on_its_client_moves_to_the_client_its_key_proves_it_belongs_to() {
        let (own, other) = (ClientId::generate(), ClientId::generate());
        let placed = place(
            contact(Some("1Z")),
            Some(own),
            &[holder(own, vec![]), holder(other, vec![task(Some("1Z"))])],
        );
        assert_eq!(
            placed,
            Placement::Merge {
                into: other,
                absorbed: vec![own]
            }
        );
    }

    #[test]
    fn two_clients_that_each_hold_other_records_merge_when_nothing_contradicts() {
        let (a, b) = (ClientId::generate(), ClientId::generate());
        let placed = place(
            contact(Some("1Z")),
            Some(a),
            &[holder(a, vec![task(None)]), holder(b, vec![])],
        );
        assert_eq!(
            placed,
            Placement::Merge {
                into: a,
                absorbed: vec![b]
            }
        );
    }

    #[test]
    fn two_taxpayers_never_share_a_client() {
        let a = ClientId::generate();
        let placed = place(contact(Some("2Y")), None, &[holder(a, vec![task(Some("1Z"))])]);
        assert_eq!(placed, Placement::Collision { clients: vec![a] });
    }

    #[test]
    fn two_objects_of_one_source_and_kind_never_share_a_client() {
        let (a, b) = (ClientId::generate(), ClientId::generate());
        let placed = place(
            task(None),
            None,
            &[holder(a, vec![task(None)]), holder(b, vec![contact(None)])],
        );
        assert_eq!(placed, Placement::Collision { clients: vec![a, b] });
    }

    #[test]
    fn a_differing_email_or_phone_is_no_contradiction() {
        assert!(can_share_client([contact(Some("1Z")), task(None)]));
        assert!(!can_share_client([contact(Some("1Z")), task(Some("2Y"))]));
    }

    #[test]
    fn the_merge_target_does_not_depend_on_which_client_the_record_came_from() {
        let (a, b) = (ClientId::generate(), ClientId::generate());
        let from_a = place(
            contact(None),
            Some(a),
            &[holder(a, vec![]), holder(b, vec![task(None)])],
        );
        let from_b = place(
            contact(None),
            None,
            &[holder(b, vec![task(None)]), holder(a, vec![])],
        );
        assert!(matches!(from_a, Placement::Merge { into, .. } if into == b));
        assert!(matches!(from_b, Placement::Merge { into, .. } if into == b));
    }
}
