//! Fellegi–Sunter weights: for each comparator and agreement level, how much likelier that level
//! is among true matches (m) than among random pairs (u). Weights are estimated without labels:
//! u from the data itself (value frequencies and random pairs), m and the match rate by EM over
//! the candidate pairs blocking produced.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::compare::{COMPARATORS, EXACT, LEVELS, MISSING, Pattern};
use crate::reconcile::Field;

/// Probabilities per agreement level (index 0, `MISSING`, is unused).
pub type LevelTable = [f64; LEVELS];

/// A fitted or default match model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// P(level | match) per comparator.
    pub(super) m: [LevelTable; COMPARATORS],
    /// P(level | non-match) per comparator.
    pub(super) u: [LevelTable; COMPARATORS],
    /// Prior probability that a candidate pair is a match.
    pub(super) lambda: f64,
}

/// Bits of evidence one comparator may add or remove, so no single field decides alone.
pub(super) const MAX_BITS: f64 = 24.0;
/// Floor for any probability, keeping weights finite.
pub(super) const FLOOR: f64 = 1e-7;

fn table(levels: [f64; LEVELS - 1]) -> LevelTable {
    let mut t = [0.0; LEVELS];
    t[1..].copy_from_slice(&levels);
    t
}

impl Default for Model {
    /// Weights that behave sensibly on a small store before any fitting: keys are strong,
    /// names moderate, addresses supporting, agreement on a region barely counts.
    fn default() -> Self {
        use Field::*;
        let mut m = [[0.0; LEVELS]; COMPARATORS];
        let mut u = [[0.0; LEVELS]; COMPARATORS];
        let mut set = |c: Field, mt: [f64; 5], ut: [f64; 5]| {
            m[c.index()] = table(mt);
            u[c.index()] = table(ut);
        };
        set(
            GivenName,
            [0.80, 0.10, 0.05, 0.03, 0.02],
            [0.01, 0.01, 0.04, 0.15, 0.79],
        );
        set(
            FamilyName,
            [0.80, 0.10, 0.05, 0.03, 0.02],
            [0.005, 0.005, 0.03, 0.12, 0.84],
        );
        set(
            Name,
            [0.80, 0.10, 0.04, 0.03, 0.03],
            [0.001, 0.002, 0.02, 0.10, 0.877],
        );
        set(
            Email,
            [0.85, 0.05, 0.02, 0.001, 0.079],
            [1e-6, 1e-5, 1e-3, 0.001, 0.997],
        );
        set(
            DocumentKey,
            [0.90, 0.05, 0.001, 0.001, 0.048],
            [1e-6, 1e-5, 0.001, 0.001, 0.998],
        );
        set(
            Phone,
            [0.80, 0.05, 0.001, 0.001, 0.148],
            [1e-5, 1e-4, 0.001, 0.001, 0.998],
        );
        set(
            DateOfBirth,
            [0.90, 0.05, 0.02, 0.001, 0.029],
            [5e-5, 1e-3, 0.01, 0.001, 0.988],
        );
        set(
            StreetNumber,
            [0.85, 0.05, 0.001, 0.001, 0.098],
            [0.02, 0.02, 0.001, 0.001, 0.958],
        );
        set(
            Street,
            [0.80, 0.08, 0.05, 0.03, 0.04],
            [0.001, 0.002, 0.01, 0.05, 0.937],
        );
        set(
            Address2,
            [0.75, 0.08, 0.05, 0.04, 0.08],
            [0.005, 0.005, 0.02, 0.08, 0.89],
        );
        set(
            City,
            [0.85, 0.07, 0.03, 0.02, 0.03],
            [0.02, 0.005, 0.02, 0.05, 0.905],
        );
        set(
            Postcode,
            [0.85, 0.07, 0.001, 0.001, 0.078],
            [0.002, 0.01, 0.001, 0.001, 0.986],
        );
        set(
            Region,
            [0.90, 0.02, 0.02, 0.01, 0.05],
            [0.2, 0.01, 0.02, 0.02, 0.75],
        );
        set(
            Company,
            [0.75, 0.08, 0.05, 0.05, 0.07],
            [0.01, 0.01, 0.04, 0.1, 0.84],
        );
        // One candidate in a thousand is a match a priori: a single agreeing name is not enough.
        Self { m, u, lambda: 0.001 }
    }
}

/// Pairs with the same pattern, counted once: EM runs over distinct patterns.
pub type PatternCounts = HashMap<Pattern, u64>;

/// How a weight was reached, for reports and conflict evidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Contribution {
    /// The comparator.
    pub comparator: &'static str,
    /// Agreement level reached.
    pub level: u8,
    /// Bits of evidence for (positive) or against (negative) a match.
    pub bits: f64,
}

impl Model {
    /// The prior match probability of a candidate pair.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Bits of evidence a comparator's level carries; missing carries none.
    pub fn weight(&self, comparator: Field, level: u8) -> f64 {
        let l = usize::from(level);
        if level == MISSING || l >= LEVELS {
            return 0.0;
        }
        let c = comparator.index();
        (self.m[c][l].max(FLOOR) / self.u[c][l].max(FLOOR))
            .log2()
            .clamp(-MAX_BITS, MAX_BITS)
    }

    /// The exact-agreement weight on a value whose share of records is `frequency`: agreeing
    /// on "Smith" says less than agreeing on "Zubizarreta".
    pub fn exact_weight_for(&self, comparator: Field, frequency: f64) -> f64 {
        let c = comparator.index();
        (self.m[c][usize::from(EXACT)].max(FLOOR) / frequency.max(FLOOR))
            .log2()
            .clamp(-MAX_BITS, MAX_BITS)
    }

    /// Total bits of a pattern.
    pub fn bits(&self, pattern: &Pattern) -> f64 {
        Field::MATCHED
            .iter()
            .map(|c| self.weight(*c, pattern[c.index()]))
            .sum()
    }

    /// The match probability of `bits` of evidence under the model's prior.
    pub fn probability(&self, bits: f64) -> f64 {
        let prior = self.lambda.clamp(FLOOR, 1.0 - FLOOR);
        let odds = prior / (1.0 - prior) * bits.exp2();
        odds / (1.0 + odds)
    }

    /// The per-comparator contributions of a pattern, strongest first, missing left out.
    pub fn explain(&self, pattern: &Pattern) -> Vec<Contribution> {
        let mut parts: Vec<Contribution> = Field::MATCHED
            .iter()
            .filter(|c| pattern[c.index()] != MISSING)
            .map(|c| Contribution {
                comparator: c.as_str(),
                level: pattern[c.index()],
                bits: self.weight(*c, pattern[c.index()]),
            })
            .collect();
        parts.sort_by(|a, b| b.bits.abs().total_cmp(&a.bits.abs()));
        parts
    }

    /// Replaces u with what the data says about random pairs.
    pub fn set_u(&mut self, u: [LevelTable; COMPARATORS]) {
        self.u = u;
    }

    /// P(level | non-match) of a comparator.
    pub fn u(&self, comparator: Field) -> &LevelTable {
        &self.u[comparator.index()]
    }

    /// P(level | match) of a comparator.
    pub fn m(&self, comparator: Field) -> &LevelTable {
        &self.m[comparator.index()]
    }

    /// Checks a model read from a file: every probability finite and in [0, 1], a prior strictly
    /// between 0 and 1. Names the first bad entry.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.lambda.is_finite() && self.lambda > 0.0 && self.lambda < 1.0) {
            return Err(format!(
                "lambda {} is not a probability strictly between 0 and 1",
                self.lambda
            ));
        }
        for field in Field::MATCHED {
            for (name, table) in [("m", &self.m[field.index()]), ("u", &self.u[field.index()])] {
                if let Some((level, p)) = table
                    .iter()
                    .enumerate()
                    .find(|(_, p)| !(p.is_finite() && (0.0..=1.0).contains(*p)))
                {
                    return Err(format!(
                        "{name}[{}][{level}] = {p} is not a probability",
                        field.as_str()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Bits a comparator can contribute at most (exact agreement), to rank what matters.
    pub fn strength(&self, comparator: Field) -> f64 {
        self.weight(comparator, EXACT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::fuzzy::compare::DIFFERENT;

    #[test]
    fn a_model_read_back_from_json_is_the_same_and_a_broken_one_is_named() {
        let model = Model::default();
        let text = serde_json::to_string(&model).unwrap();
        let back: Model = serde_json::from_str(&text).unwrap();
        assert_eq!(back, model);
        assert!(back.validate().is_ok());
        let mut broken = model;
        broken.u[Field::Phone.index()][2] = 1.5;
        let err = broken.validate().unwrap_err();
        assert!(err.contains("u[phone][2]"), "{err}");
    }

    #[test]
    fn agreement_adds_evidence_and_disagreement_removes_it() {
        let model = Model::default();
        assert!(model.weight(Field::DocumentKey, EXACT) > 10.0);
        assert!(model.weight(Field::DocumentKey, DIFFERENT) < -3.0);
        assert_eq!(model.weight(Field::Email, MISSING), 0.0);
    }

    #[test]
    fn a_common_value_agreeing_counts_less_than_a_rare_one() {
        let model = Model::default();
        assert!(
            model.exact_weight_for(Field::FamilyName, 0.02)
                < model.exact_weight_for(Field::FamilyName, 0.0001)
        );
    }
}
