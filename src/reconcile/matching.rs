//! Which golden client a source record belongs to: exact keys in a fixed order first, then
//! the fuzzy score of the candidates blocking found.

use serde::Serialize;

use super::Field;
use super::fuzzy::{Model, Profile, ProfileOptions, compare::compare, explain, model::Contribution};
use crate::domain::{ids::ClientId, phone::Country};

/// How the worker matches records without a shared exact key.
#[derive(Debug, Clone)]
pub struct Matching {
    /// Auto-link at or above this probability (when no other candidate is close).
    pub link_threshold: f64,
    /// Below this a candidate is not a match; between the two an operator decides.
    pub review_threshold: f64,
    /// Two candidates within this probability of each other are ambiguous.
    pub ambiguity_margin: f64,
    /// Blocking keys held by more clients than this are too common to use.
    pub max_block: usize,
    /// How values are folded.
    pub profile: ProfileOptions,
    /// National phone numbers are read in this country.
    pub country: Option<Country>,
    /// Weights.
    pub model: Model,
}

impl Default for Matching {
    fn default() -> Self {
        Self {
            link_threshold: 0.95,
            review_threshold: 0.60,
            ambiguity_margin: 0.10,
            max_block: 64,
            profile: ProfileOptions::default(),
            country: None,
            model: Model::default(),
        }
    }
}

/// A fuzzy candidate with its probability and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// The candidate client.
    pub client_id: ClientId,
    /// Match probability.
    pub probability: f64,
    /// Per-field evidence, strongest first.
    pub evidence: Vec<Contribution>,
    /// The candidate already holds another object of the record's source and kind. A source
    /// keeps its objects apart on purpose (two contacts are two people until HubSpot merges
    /// them), so such a candidate is never joined automatically, only put to an operator.
    pub same_source: bool,
}

/// What to do with a record.
#[derive(Debug, Clone, PartialEq)]
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
    /// Fuzzy candidates an operator must choose between (or reject); an ambiguous_match conflict.
    Ambiguous {
        /// Candidates at or above the review threshold, most probable first.
        candidates: Vec<Scored>,
    },
}

/// Whether two holders of values have different emails or document keys (both present).
pub fn keys_disagree<'a, 'b>(
    a: impl Fn(Field) -> Option<&'a str>,
    b: impl Fn(Field) -> Option<&'b str>,
) -> bool {
    [Field::Email, Field::DocumentKey]
        .into_iter()
        .any(|f| matches!((a(f), b(f)), (Some(x), Some(y)) if x != y))
}

/// Scores a record's profile against candidate clients' profiles with the configured model.
pub fn score_candidates<'a>(
    profile: &Profile,
    candidates: impl IntoIterator<Item = (ClientId, &'a Profile)>,
    matching: &Matching,
) -> Vec<Scored> {
    candidates
        .into_iter()
        .map(|(client_id, other)| {
            let pattern = compare(profile, other);
            let two_taxpayers = explain::vetoed(&pattern);
            Scored {
                client_id,
                probability: if two_taxpayers {
                    0.0
                } else {
                    matching.model.probability(matching.model.bits(&pattern))
                },
                evidence: matching.model.explain(&pattern),
                same_source: false,
            }
        })
        .collect()
}

/// Whether any candidate scores at the review threshold: what keeps a record from founding a
/// client of its own (`decide_fuzzy` gives `Create` exactly when none does), answered without
/// the evidence `score_candidates` explains each score with, and from the first that does.
pub fn any_at_review<'a>(
    profile: &Profile,
    candidates: impl IntoIterator<Item = &'a Profile>,
    matching: &Matching,
) -> bool {
    candidates.into_iter().any(|other| {
        let pattern = compare(profile, other);
        let probability = if explain::vetoed(&pattern) {
            0.0
        } else {
            matching.model.probability(matching.model.bits(&pattern))
        };
        probability >= matching.review_threshold
    })
}

/// Decides from fuzzy scores: one clear candidate above the link threshold links, unless it
/// holds another object of the same source; anything doubtful (between the thresholds, two
/// candidates close together, or that same-source candidate) is for an operator; nothing above
/// the review threshold makes a new client.
pub fn decide_fuzzy(mut scored: Vec<Scored>, matching: &Matching) -> MatchDecision {
    scored.retain(|s| s.probability >= matching.review_threshold);
    scored.sort_by(|a, b| b.probability.total_cmp(&a.probability));
    match scored.as_slice() {
        [] => MatchDecision::Create,
        [top, rest @ ..]
            if top.probability >= matching.link_threshold
                && !top.same_source
                // A candidate holding another object of the record's own source and kind is
                // someone else by that source's own account: no rival to a clear leader.
                && rest.iter().find(|s| !s.same_source).is_none_or(|second| {
                    top.probability - second.probability >= matching.ambiguity_margin
                }) =>
        {
            MatchDecision::Link(top.client_id)
        }
        _ => MatchDecision::Ambiguous { candidates: scored },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_candidate_with_another_tax_document_key_scores_zero_however_much_else_agrees() {
        let with = |key: &str| {
            Profile::build(
                |f| match f {
                    Field::GivenName => Some("Ana"),
                    Field::FamilyName => Some("Garcia"),
                    Field::Phone => Some("+34600111222"),
                    Field::Postcode => Some("28001"),
                    Field::DocumentKey => Some(key),
                    _ => None,
                },
                ProfileOptions::default(),
            )
        };
        let (client, other) = (ClientId::generate(), with("87654321X"));
        let matching = Matching::default();
        let typo = score_candidates(&with("12345678Z"), [(client, &with("12345687Z"))], &matching);
        let another = score_candidates(&with("12345678Z"), [(client, &other)], &matching);
        assert!(
            typo[0].probability > 0.9,
            "a transposed digit is still the same person"
        );
        assert_eq!(another[0].probability, 0.0);
    }

    fn scored(client: ClientId, probability: f64) -> Scored {
        Scored {
            client_id: client,
            probability,
            evidence: vec![],
            same_source: false,
        }
    }

    #[test]
    fn a_strong_candidate_holding_another_object_of_the_same_source_goes_to_an_operator() {
        let a = ClientId::generate();
        let candidate = Scored {
            same_source: true,
            ..scored(a, 0.999)
        };
        let decision = decide_fuzzy(vec![candidate], &Matching::default());
        assert!(matches!(decision, MatchDecision::Ambiguous { candidates } if candidates.len() == 1));
    }

    #[test]
    fn a_namesake_holding_another_object_of_the_same_source_is_no_rival_to_a_clear_leader() {
        let (task_client, other_contact) = (ClientId::generate(), ClientId::generate());
        let namesake = Scored {
            same_source: true,
            ..scored(other_contact, 0.97)
        };
        let decision = decide_fuzzy(vec![scored(task_client, 0.9999), namesake], &Matching::default());
        assert_eq!(decision, MatchDecision::Link(task_client));
    }

    #[test]
    fn one_clear_fuzzy_candidate_above_the_link_threshold_links() {
        let (a, b) = (ClientId::generate(), ClientId::generate());
        let decision = decide_fuzzy(vec![scored(b, 0.2), scored(a, 0.99)], &Matching::default());
        assert_eq!(decision, MatchDecision::Link(a));
    }

    #[test]
    fn a_candidate_between_the_thresholds_goes_to_an_operator() {
        let a = ClientId::generate();
        let decision = decide_fuzzy(vec![scored(a, 0.8)], &Matching::default());
        assert!(matches!(decision, MatchDecision::Ambiguous { candidates } if candidates.len() == 1));
    }

    #[test]
    fn two_strong_candidates_close_together_are_ambiguous() {
        let (a, b) = (ClientId::generate(), ClientId::generate());
        let decision = decide_fuzzy(vec![scored(a, 0.99), scored(b, 0.97)], &Matching::default());
        let MatchDecision::Ambiguous { candidates } = decision else {
            panic!("expected ambiguous, got {decision:?}");
        };
        assert_eq!(candidates[0].client_id, a);
        assert_eq!(candidates.len(), 2);
    }

    #[test]
    fn weak_candidates_make_a_new_client() {
        let a = ClientId::generate();
        assert_eq!(
            decide_fuzzy(vec![scored(a, 0.3)], &Matching::default()),
            MatchDecision::Create
        );
    }
}
