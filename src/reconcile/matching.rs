//! Which golden client a source record belongs to, by exact keys in a fixed order.

use crate::domain::ids::ClientId;

/// The clients the store found for a record's keys; each lookup is exact and indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidates {
    /// The client this (source, external id) is already linked to.
    pub linked: Option<ClientId>,
    /// The client holding the record's normalized document key.
    pub by_document_key: Option<ClientId>,
    /// The client holding the record's normalized email.
    pub by_email: Option<ClientId>,
}

/// What to do with a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchDecision {
    /// Feed this client.
    Link(ClientId),
    /// No client matches: make one.
    Create,
    /// The keys point at different clients; merge nothing and raise a key_collision conflict.
    Collision {
        /// The distinct clients involved, in match order (link, document key, email).
        clients: Vec<ClientId>,
    },
}

/// Existing link, then document key, then email; disagreeing keys never merge.
pub fn decide(candidates: &Candidates) -> MatchDecision {
    let mut clients: Vec<ClientId> = Vec::with_capacity(3);
    for id in [candidates.linked, candidates.by_document_key, candidates.by_email]
        .into_iter()
        .flatten()
    {
        if !clients.contains(&id) {
            clients.push(id);
        }
    }
    match clients.as_slice() {
        [] => MatchDecision::Create,
        [only] => MatchDecision::Link(*only),
        _ => MatchDecision::Collision { clients },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_with_no_matching_key_creates_a_client() {
        assert_eq!(decide(&Candidates::default()), MatchDecision::Create);
    }

    #[test]
    fn keys_that_agree_link_to_that_client() {
        let a = ClientId::generate();
        let c = Candidates {
            linked: None,
            by_document_key: Some(a),
            by_email: Some(a),
        };
        assert_eq!(decide(&c), MatchDecision::Link(a));
    }

    #[test]
    fn email_and_document_key_pointing_at_different_clients_is_a_collision() {
        let (a, b) = (ClientId::generate(), ClientId::generate());
        let c = Candidates {
            linked: None,
            by_document_key: Some(a),
            by_email: Some(b),
        };
        assert_eq!(decide(&c), MatchDecision::Collision { clients: vec![a, b] });
    }

    #[test]
    fn an_existing_link_that_disagrees_with_a_key_is_a_collision() {
        let (a, b) = (ClientId::generate(), ClientId::generate());
        let c = Candidates {
            linked: Some(a),
            by_document_key: None,
            by_email: Some(b),
        };
        assert!(matches!(decide(&c), MatchDecision::Collision { .. }));
    }
}
