//! Running statistics of an import: the row counters, and the count, min, mean and max of each
//! numeric column asked for with `--stat`. Pure; stored as JSON with each batch so a resumed run
//! goes on from the same figures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::imports::Counters;

/// Figures of one numeric column over the rows loaded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    /// Rows with a number in the column.
    pub count: u64,
    /// Rows whose cell held something that is not a number (empty cells are not counted).
    pub not_numeric: u64,
    /// The smallest number seen.
    pub min: Option<f64>,
    /// The largest number seen.
    pub max: Option<f64>,
    /// The sum, from which the mean is taken.
    pub sum: f64,
}

impl ColumnStats {
    /// Takes one cell into the figures.
    pub fn add(&mut self, cell: &str) {
        let cell = cell.trim();
        if cell.is_empty() {
            return;
        }
        let Some(n) = parse_number(cell) else {
            self.not_numeric += 1;
            return;
        };
        self.count += 1;
        self.sum += n;
        self.min = Some(self.min.map_or(n, |m| m.min(n)));
        self.max = Some(self.max.map_or(n, |m| m.max(n)));
    }

    /// Adds another part's figures (a batch's) to these.
    pub fn merge(&mut self, other: &ColumnStats) {
        self.count += other.count;
        self.not_numeric += other.not_numeric;
        self.sum += other.sum;
        self.min = [self.min, other.min].into_iter().flatten().reduce(f64::min);
        self.max = [self.max, other.max].into_iter().flatten().reduce(f64::max);
    }

    /// The mean of the numbers seen, if any.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

/// A number as spreadsheets export it: `1234.5`, `-3`, or with a decimal comma and dot or space
/// thousands (`1.234,50`, `1 234,5`, as Spanish Excel writes them). Infinities and NaN are not
/// numbers here.
pub fn parse_number(cell: &str) -> Option<f64> {
    let plain: String = cell
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    let parsed = match (plain.rfind(','), plain.rfind('.')) {
        // A comma after any dot is the decimal mark; dots before it group thousands.
        (Some(comma), dot) if dot.is_none_or(|d| d < comma) => plain.replace('.', "").replace(',', "."),
        // A dot after any comma is the decimal mark; commas group thousands.
        (Some(_), Some(_)) => plain.replace(',', ""),
        _ => plain,
    };
    parsed.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Everything an import run has counted so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// Rows read, loaded, rejected, and what loading did.
    pub counters: Counters,
    /// `--stat` column → its figures.
    pub columns: BTreeMap<String, ColumnStats>,
}

impl RunStats {
    /// Fresh figures for the named columns.
    pub fn new(columns: &[String]) -> Self {
        Self {
            counters: Counters::default(),
            columns: columns
                .iter()
                .map(|c| (c.clone(), ColumnStats::default()))
                .collect(),
        }
    }

    /// Figures stored with a run, for the named columns (a column not stored starts empty).
    pub fn resumed(counters: Counters, stored: &serde_json::Value, columns: &[String]) -> Self {
        let mut stats = Self::new(columns);
        stats.counters = counters;
        if let Ok(stored) = serde_json::from_value::<BTreeMap<String, ColumnStats>>(stored.clone()) {
            for (name, figures) in stored {
                if let Some(slot) = stats.columns.get_mut(&name) {
                    *slot = figures;
                }
            }
        }
        stats
    }

    /// The column figures as stored.
    pub fn columns_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.columns).unwrap_or_default()
    }

    /// One line for the terminal: `read 1200 · loaded 1080 · rejected 120 · …`.
    pub fn line(&self) -> String {
        let c = &self.counters;
        let mut line = format!(
            "read {} · loaded {} · rejected {} · new {} · linked {} · conflicts {} · unchanged {}",
            c.rows_read, c.rows_loaded, c.rows_rejected, c.new_clients, c.linked, c.conflicts, c.unchanged
        );
        for (name, s) in &self.columns {
            line.push_str(&format!(" · {name} {}", figures(s)));
        }
        line
    }
}

/// `min/mean/max` of a column, or `-` when it has no number yet.
pub fn figures(s: &ColumnStats) -> String {
    match (s.min, s.mean(), s.max) {
        (Some(min), Some(mean), Some(max)) => format!("{min}/{mean:.2}/{max}"),
        _ => "-".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn numbers_are_read_with_a_decimal_point_or_a_spanish_decimal_comma() {
        assert_eq!(parse_number("1234.5"), Some(1234.5));
        assert_eq!(parse_number("1.234,50"), Some(1234.5));
        assert_eq!(parse_number("1,234.50"), Some(1234.5));
        assert_eq!(parse_number("1 234,5"), Some(1234.5));
        assert_eq!(parse_number("-3"), Some(-3.0));
        assert_eq!(parse_number("12,5"), Some(12.5));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("inf"), None);
    }

    #[test]
    fn a_column_counts_min_mean_and_max_and_what_was_not_a_number() {
        let mut s = ColumnStats::default();
        for cell in ["10", "2,5", "", "n/a", "40"] {
            s.add(cell);
        }
        assert_eq!((s.count, s.not_numeric), (3, 1));
        assert_eq!((s.min, s.max), (Some(2.5), Some(40.0)));
        assert_eq!(s.mean(), Some(52.5 / 3.0));
        assert_eq!(figures(&s), "2.5/17.50/40");
    }

    #[test]
    fn stored_figures_resume_for_the_columns_still_asked_for() {
        let mut before = RunStats::new(&["amount".into(), "age".into()]);
        if let Some(amount) = before.columns.get_mut("amount") {
            amount.add("7");
        }
        let resumed = RunStats::resumed(Counters::default(), &before.columns_json(), &["amount".into()]);
        assert_eq!(resumed.columns.len(), 1);
        assert_eq!(resumed.columns["amount"].max, Some(7.0));
    }

    proptest! {
        #[test]
        fn any_cell_is_a_finite_number_or_not_a_number(cell in ".{0,20}") {
            if let Some(n) = parse_number(&cell) {
                prop_assert!(n.is_finite());
            }
        }
    }
}
