//! How far a record's evidence can reach: the highest probability its profile could score
//! against *any* client a fuzzy match would consider, whatever that client holds. A record whose
//! best case stays under the link threshold cannot be linked by a score, so the worker need not
//! look for candidates to find that out (issue 16: a lone contact re-matched on each property).
//!
//! The bound follows `compare` and `score_candidates` comparator by comparator:
//! - a comparator counts only when the record has its value (else it is missing: no bits), and
//!   then at most its best level's weight (never less than nothing: the candidate may lack it);
//! - the whole name counts only against a candidate without a person name, whose given and
//!   family names are then missing: the better of the two readings, never both;
//! - a candidate with another email or document key is never scored (`keys_disagree`), so the
//!   record's own keys can add bits only where another client may hold the very same value.

use super::{
    Field, Matching,
    fuzzy::{
        Profile,
        compare::{self, LEVELS},
    },
};

/// Whether a client other than the record's own may hold the record's email or document key:
/// only such a client can agree with the record on one (any other value rules a client out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHolders {
    /// No other client holds either key the record has (an indexed lookup said so).
    OwnOnly,
    /// Not looked up: another client may hold one.
    MaybeOthers,
}

/// Rounding slack, so a sum taken in another order than the score's never falls just short.
const SLACK_BITS: f64 = 1e-9;

/// The highest match probability `profile` could score against any candidate client.
pub fn best_probability(profile: &Profile, holders: KeyHolders, matching: &Matching) -> f64 {
    let model = &matching.model;
    let best = |field: Field| -> f64 {
        if compare::value(profile, field).is_none() {
            return 0.0;
        }
        (1..LEVELS)
            .filter_map(|level| u8::try_from(level).ok())
            .map(|level| model.weight(field, level))
            .fold(0.0, f64::max)
    };
    let person = (best(Field::GivenName) + best(Field::FamilyName)).max(best(Field::Name));
    let keys = match holders {
        KeyHolders::OwnOnly => 0.0,
        KeyHolders::MaybeOthers => best(Field::Email) + best(Field::DocumentKey),
    };
    let rest: f64 = Field::MATCHED
        .iter()
        .filter(|f| {
            !matches!(
                f,
                Field::Name | Field::GivenName | Field::FamilyName | Field::Email | Field::DocumentKey
            )
        })
        .map(|f| best(*f))
        .sum();
    model.probability(person + keys + rest + SLACK_BITS)
}

/// Whether any candidate could score `profile` at the link threshold: when not, no score links
/// the record or moves it, and looking for candidates would only confirm it.
pub fn could_link(profile: &Profile, holders: KeyHolders, matching: &Matching) -> bool {
    best_probability(profile, holders, matching) >= matching.link_threshold
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::{
        domain::ids::ClientId,
        reconcile::{
            fuzzy::{Model, ProfileOptions},
            keys_disagree, score_candidates,
        },
    };

    fn profile(values: &BTreeMap<Field, &str>) -> Profile {
        Profile::build(|f| values.get(&f).copied(), ProfileOptions::default())
    }

    fn of(values: &[(Field, &str)]) -> Profile {
        profile(&values.iter().copied().collect())
    }

    #[test]
    fn an_email_and_two_names_cannot_reach_the_link_threshold_when_no_other_client_holds_the_email() {
        let record = of(&[
            (Field::Email, "ana@example.com"),
            (Field::GivenName, "Ana"),
            (Field::FamilyName, "Romero"),
        ]);
        let matching = Matching::default();
        assert!(!could_link(&record, KeyHolders::OwnOnly, &matching));
        assert!(
            could_link(&record, KeyHolders::MaybeOthers, &matching),
            "a client holding the same email could"
        );
    }

    #[test]
    fn a_phone_alone_can_reach_the_link_threshold() {
        let record = of(&[(Field::Email, "ana@example.com"), (Field::Phone, "612345678")]);
        assert!(could_link(&record, KeyHolders::OwnOnly, &Matching::default()));
    }

    #[test]
    fn a_record_with_nothing_to_compare_reaches_only_the_prior() {
        let matching = Matching::default();
        let nothing = best_probability(&of(&[]), KeyHolders::MaybeOthers, &matching);
        assert!((nothing - matching.model.lambda()).abs() < 1e-6, "{nothing}");
    }

    /// Values drawn from small pools, so that exact, close and different levels all occur.
    fn values() -> impl Strategy<Value = BTreeMap<Field, &'static str>> {
        let pools: Vec<(Field, Vec<&'static str>)> = vec![
            (Field::GivenName, vec!["Ana", "Anna", "Ane", "Pedro", "Romero"]),
            (Field::FamilyName, vec!["Romero", "Romeo", "Garcia", "Ana"]),
            (
                Field::Name,
                vec!["Ana Romero", "Romero Ana", "Talleres Romero SL"],
            ),
            (Field::Email, vec!["ana@x.com", "ana@y.com", "ama@x.com"]),
            (Field::DocumentKey, vec!["12345678Z", "12345687Z", "87654321X"]),
            (Field::Phone, vec!["612345678", "612345679", "699000111"]),
            (Field::DateOfBirth, vec!["1980-01-02", "1980-02-01", "1981-01-02"]),
            (Field::Postcode, vec!["28001", "28010", "08001"]),
            (Field::City, vec!["Madrid", "Madird", "Barcelona"]),
            (Field::Street, vec!["Calle Mayor", "Calle Mayo"]),
            (Field::StreetNumber, vec!["12", "21"]),
            (Field::Company, vec!["Acme SL", "Acme"]),
        ];
        pools
            .into_iter()
            .map(|(field, pool)| {
                proptest::option::of(proptest::sample::select(pool)).prop_map(move |v| (field, v))
            })
            .collect::<Vec<_>>()
            .prop_map(|pairs| pairs.into_iter().filter_map(|(f, v)| Some((f, v?))).collect())
    }

    /// Any weights a fitted model might hold: every m and u in (0, 1), a prior in (0, 0.5].
    fn models() -> impl Strategy<Value = Model> {
        let table = proptest::collection::vec(0.0001f64..0.9999, LEVELS);
        let tables = proptest::collection::vec(table, Field::MATCHED.len());
        (tables.clone(), tables, 0.000001f64..0.5).prop_filter_map("a valid model", |(m, u, lambda)| {
            let model: Model =
                serde_json::from_value(serde_json::json!({"m": m, "u": u, "lambda": lambda})).ok()?;
            model.validate().ok().map(|()| model)
        })
    }

    proptest! {
        #[test]
        fn no_candidate_a_fuzzy_match_considers_scores_above_the_bound(
            record in values(),
            candidate in values(),
            model in prop_oneof![Just(Model::default()), models()],
        ) {
            let get = |values: &BTreeMap<Field, &'static str>| {
                let values = values.clone();
                move |f: Field| values.get(&f).copied()
            };
            // The candidates `fuzzy_candidates` scores: no other email or document key.
            prop_assume!(!keys_disagree(get(&record), get(&candidate)));
            let shares_a_key = [Field::Email, Field::DocumentKey]
                .into_iter()
                .any(|f| record.contains_key(&f) && record.get(&f) == candidate.get(&f));
            let matching = Matching { model, ..Matching::default() };
            let scored = score_candidates(&profile(&record), [(ClientId::generate(), &profile(&candidate))], &matching);
            let bound = best_probability(&profile(&record), KeyHolders::MaybeOthers, &matching);
            prop_assert!(scored[0].probability <= bound, "{} > {bound}", scored[0].probability);
            if !shares_a_key {
                let own_only = best_probability(&profile(&record), KeyHolders::OwnOnly, &matching);
                prop_assert!(scored[0].probability <= own_only, "{} > {own_only}", scored[0].probability);
            }
        }
    }
}
