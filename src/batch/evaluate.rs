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
    let headers = reader.headers().map_err(|e| BatchError::Line {
        file: name.clone(),
        line: 1,
        problem: e.to_string(),
    })?;
    let names: Vec<&str> = headers.iter().collect();
    if names.len() < 2 || !names[..2].iter().all(|h| names_an_id(h)) {
        return Err(BatchError::Line {
            file: name,
            line: 1,
            problem: format!(
                "the header is `{}`, not a pair of id columns (left_id,right_id): is this a pairs or truth file?",
                names.join(",")
            ),
        });
    }
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

/// Whether a header can name a record id column (`left_id`, `id1`, `rec_id`, `left`…).
fn names_an_id(header: &str) -> bool {
    let folded = super::columns::fold_header(header);
    folded
        .split('_')
        .any(|w| w.starts_with("id") || w.ends_with("id"))
        || ["left", "right"].contains(&folded.as_str())
}

/// Compares `found` with `truth` (both CSV files whose first two columns are the ids); refuses
/// a truth with no pairs, and two files that share no id at all (not of the same data), rather
/// than report zeros.
pub fn evaluate(found_path: &Path, truth_path: &Path) -> Result<Evaluation, BatchError> {
    let found = pairs(found_path)?;
    let truth = pairs(truth_path)?;
    let refuse = |problem: String| BatchError::Line {
        file: truth_path.display().to_string(),
        line: 1,
        problem,
    };
    if truth.is_empty() {
        return Err(refuse("it holds no pairs, so recall means nothing".to_owned()));
    }
    let truth_ids: HashSet<&String> = truth.iter().flat_map(|(a, b)| [a, b]).collect();
    if !found.is_empty()
        && !found
            .iter()
            .flat_map(|(a, b)| [a, b])
            .any(|id| truth_ids.contains(id))
    {
        return Err(refuse(format!(
            "no id of {} appears in it: the two files are not of the same records",
            found_path.display()
        )));
    }
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

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_file_that_is_not_pairs_of_ids_is_refused_instead_of_scored_zero() {
        let dir = tempfile::tempdir().unwrap();
        let pairs = write(&dir, "pairs.csv", "left_id,right_id,probability\na1,b1,0.9\n");
        let truth = write(&dir, "truth.csv", "left_id,right_id\na1,b1\na2,b2\n");
        let clients = write(&dir, "left.csv", "rec_id,given_name,surname\na1,Ana,Ruiz\n");
        let other = write(&dir, "other.csv", "left_id,right_id\nx1,y1\n");
        let empty = write(&dir, "empty.csv", "left_id,right_id\n");
        assert_eq!(evaluate(&pairs, &truth).unwrap().true_positives, 1);
        let err = evaluate(&pairs, &clients).unwrap_err().to_string();
        assert!(
            err.contains("left.csv, line 1: the header is `rec_id,given_name,surname`"),
            "{err}"
        );
        let err = evaluate(&pairs, &other).unwrap_err().to_string();
        assert!(err.contains("not of the same records"), "{err}");
        let err = evaluate(&pairs, &empty).unwrap_err().to_string();
        assert!(err.contains("holds no pairs"), "{err}");
    }

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
