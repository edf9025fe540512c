//! Precision, recall and F1 of a pairs file against a truth file.

use std::{collections::HashSet, path::Path};

use super::BatchError;

/// How a pairs file compares with the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Pairs found that are true.
    pub true_positives: usize,
    /// Pairs found that are not.
    pub false_positives: usize,
    /// True pairs not found.
    pub false_negatives: usize,
}

impl Evaluation {
    /// Share of found pairs that are true.
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    /// Share of true pairs found.
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Order-free pair, so a deduplication's (a, b) equals the truth's (b, a).
fn key(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

fn pairs(path: &Path) -> Result<HashSet<(String, String)>, BatchError> {
    let name = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| BatchError::Line {
            file: name.clone(),
            line: 1,
            problem: e.to_string(),
        })?;
    let mut set = HashSet::new();
    for row in reader.records() {
        let row = row.map_err(|e| BatchError::Line {
            file: name.clone(),
            line: e.position().map_or(0, csv::Position::line),
            problem: e.to_string(),
        })?;
        match (row.get(0), row.get(1)) {
            (Some(a), Some(b)) => {
                set.insert(key(a.trim(), b.trim()));
            }
            _ => {
                return Err(BatchError::Line {
                    file: name,
                    line: row.position().map_or(0, csv::Position::line),
                    problem: "expected left_id,right_id".to_owned(),
                });
            }
        }
    }
    Ok(set)
}

/// Compares `found` with `truth` (both CSV files whose first two columns are the ids).
pub fn evaluate(found: &Path, truth: &Path) -> Result<Evaluation, BatchError> {
    let found = pairs(found)?;
    let truth = pairs(truth)?;
    let true_positives = found.intersection(&truth).count();
    Ok(Evaluation {
        true_positives,
        false_positives: found.len() - true_positives,
        false_negatives: truth.len() - true_positives,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_is_the_harmonic_mean_of_precision_and_recall() {
        let e = Evaluation {
            true_positives: 8,
            false_positives: 2,
            false_negatives: 8,
        };
        assert!((e.precision() - 0.8).abs() < 1e-9);
        assert!((e.recall() - 0.5).abs() < 1e-9);
        assert!((e.f1() - 2.0 * 0.8 * 0.5 / 1.3).abs() < 1e-9);
    }
}
