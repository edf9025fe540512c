//! Why a pair scored what it did, in a form worth storing beside an automatic decision: per
//! field the agreement level by name and its bits, the total, the probability, and which model
//! said so. Pure: the same pair and model always give the same explanation.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    compare::{self, CLOSE, DIFFERENT, EXACT, MISSING, Pattern, SIMILAR, WEAK},
    model::Model,
    profile::Profile,
};
use crate::reconcile::Field;

/// An agreement level by a name an operator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelName {
    /// One side has no value: no evidence either way.
    Missing,
    /// The same value after folding.
    Exact,
    /// One typo, a nickname, a day/month swap.
    Close,
    /// Alike but more than a typo apart.
    Similar,
    /// Barely alike (a shared word of a longer name).
    Weak,
    /// Nothing in common.
    Disagree,
}

impl LevelName {
    /// The name of a comparator level.
    pub fn of(level: compare::Level) -> Self {
        match level {
            MISSING => Self::Missing,
            EXACT => Self::Exact,
            CLOSE => Self::Close,
            SIMILAR => Self::Similar,
            WEAK => Self::Weak,
            _ => Self::Disagree,
        }
    }

    /// The level as an operator reads it beside two values.
    pub fn human(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Exact => "exact",
            Self::Close => "one edit",
            Self::Similar => "similar",
            Self::Weak => "weak",
            Self::Disagree => "different",
        }
    }
}

/// One field's part in a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldEvidence {
    /// The field compared.
    pub field: Field,
    /// How well the two values agreed.
    pub level: LevelName,
    /// Bits of evidence for (positive) or against (negative) a match.
    pub bits: f64,
}

/// A comparison explained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The model's version (see [`version`]).
    pub model_version: String,
    /// Fields either side had, in field order.
    pub fields: Vec<FieldEvidence>,
    /// Sum of the fields' bits.
    pub bits: f64,
    /// Match probability under the model's prior; 0 when vetoed.
    pub probability: f64,
    /// Two different document keys: two taxpayers, never one client, whatever else agrees.
    pub vetoed: bool,
}

/// Whether a pattern can never be a match: document keys that differ by more than a typo
/// belong to two taxpayers, however much else (a surname, an office, a postcode) agrees.
pub fn vetoed(pattern: &Pattern) -> bool {
    pattern[Field::DocumentKey.index()] == DIFFERENT
}

/// A stable name for a model's parameters: `default` for the built-in weights, else `fs-` and
/// the first 12 hex digits of a SHA-256 over every m, u and the prior.
pub fn version(model: &Model) -> String {
    if *model == Model::default() {
        return "default".to_owned();
    }
    let mut hash = Sha256::new();
    for table in model.m.iter().chain(model.u.iter()) {
        for p in table {
            hash.update(p.to_le_bytes());
        }
    }
    hash.update(model.lambda.to_le_bytes());
    let digest = hash.finalize();
    format!("fs-{}", hex::encode(&digest[..6]))
}

/// Explains the comparison of `a` with `b` as the worker scores it (no term-frequency weights).
pub fn explain(model: &Model, a: &Profile, b: &Profile) -> Explanation {
    let pattern = compare::compare(a, b);
    let fields: Vec<FieldEvidence> = Field::MATCHED
        .iter()
        .filter(|f| {
            pattern[f.index()] != MISSING
                || compare::value(a, **f).is_some() != compare::value(b, **f).is_some()
        })
        .map(|f| FieldEvidence {
            field: *f,
            level: LevelName::of(pattern[f.index()]),
            bits: model.weight(*f, pattern[f.index()]),
        })
        .collect();
    let bits = fields.iter().map(|f| f.bits).sum();
    let vetoed = vetoed(&pattern);
    Explanation {
        model_version: version(model),
        fields,
        bits,
        probability: if vetoed { 0.0 } else { model.probability(bits) },
        vetoed,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::reconcile::fuzzy::ProfileOptions;

    fn person(values: &[(Field, &str)]) -> Profile {
        let map: BTreeMap<Field, &str> = values.iter().copied().collect();
        Profile::build(|f| map.get(&f).copied(), ProfileOptions::default())
    }

    #[test]
    fn an_explanation_names_each_fields_level_and_adds_up_to_the_workers_score() {
        let model = Model::default();
        let a = person(&[
            (Field::GivenName, "Ana"),
            (Field::FamilyName, "Romero"),
            (Field::Phone, "600111222"),
            (Field::Email, "ana@x.com"),
        ]);
        let b = person(&[
            (Field::GivenName, "Ana"),
            (Field::FamilyName, "Romeor"),
            (Field::Phone, "699888777"),
        ]);
        let e = explain(&model, &a, &b);
        let level = |f: Field| e.fields.iter().find(|x| x.field == f).map(|x| x.level);
        assert_eq!(level(Field::GivenName), Some(LevelName::Exact));
        assert_eq!(level(Field::FamilyName), Some(LevelName::Close));
        assert_eq!(level(Field::Phone), Some(LevelName::Disagree));
        assert_eq!(level(Field::Email), Some(LevelName::Missing));
        assert_eq!(level(Field::Postcode), None);
        let pattern = compare::compare(&a, &b);
        assert!((e.bits - model.bits(&pattern)).abs() < 1e-9);
        assert!((e.probability - model.probability(e.bits)).abs() < 1e-12);
        assert_eq!(e.model_version, "default");
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"level\":\"disagree\""), "{json}");
        let back: Explanation = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (back.fields.len(), back.model_version),
            (e.fields.len(), e.model_version)
        );
        assert!((back.probability - e.probability).abs() < 1e-12);
    }

    #[test]
    fn a_changed_model_has_another_stable_version_and_different_keys_veto() {
        let fitted = Model {
            lambda: 0.01,
            ..Model::default()
        };
        let v = version(&fitted);
        assert!(v.starts_with("fs-") && v.len() == 15, "{v}");
        assert_eq!(v, version(&fitted.clone()));
        let a = person(&[(Field::DocumentKey, "12345678Z"), (Field::GivenName, "Ana")]);
        let b = person(&[(Field::DocumentKey, "87654321X"), (Field::GivenName, "Ana")]);
        let e = explain(&fitted, &a, &b);
        assert!(e.vetoed);
        assert_eq!(e.probability, 0.0);
    }
}
