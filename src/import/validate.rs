//! One row of an export checked before anything is written: every mapped value goes through
//! the same parsers the engine normalizes with (email syntax, the NIF/NIE/CIF check character,
//! phone numbers, dates), and a row must say who it is. Pure: a rejected row is a reason, never
//! a partial write.

use sha2::{Digest, Sha256};

use crate::{
    domain::{document_key::SpanishCheck, phone::Country},
    reconcile::{
        Field,
        normalize::{Normalized, normalize_in},
    },
};

use super::columns::{IDENTIFYING, ImportColumns};

/// A row that passed: what it feeds, and the stable name of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRow {
    /// The file line the row starts on.
    pub line: u64,
    /// The record's id at its source (the id column), or `row-<hash>` when the file has none.
    pub object_id: String,
    /// Each non-empty mapped value, raw (the engine normalizes), in field order.
    pub values: Vec<(Field, String)>,
    /// Hex SHA-256 of the id and values: the same row imported again is the same event.
    pub digest: String,
}

/// Checks one row's cells (`headers` name the columns in reasons); the error is why the row is
/// refused. Empty cells are left out: an export's blank is "not known", not "cleared".
pub fn validate(
    columns: &ImportColumns,
    headers: &[String],
    cells: &[&str],
    line: u64,
    country: Option<Country>,
) -> Result<ValidRow, String> {
    let header = |i: usize| headers.get(i).map_or("?", |h| h.trim());
    let mut values = Vec::with_capacity(columns.fields.len());
    for (field, i) in &columns.fields {
        let raw = cells.get(*i).map_or("", |c| c.trim());
        if raw.is_empty() {
            continue;
        }
        match normalize_in(*field, Some(raw), country) {
            Normalized::Value(_, Some(SpanishCheck::Invalid)) => {
                return Err(format!(
                    "`{}`: the NIF/NIE/CIF check character is wrong",
                    header(*i)
                ));
            }
            Normalized::Rejected(reason) => return Err(format!("`{}`: {reason}", header(*i))),
            Normalized::Value(..) | Normalized::Cleared => values.push((*field, raw.to_owned())),
        }
    }
    if !values.iter().any(|(f, _)| IDENTIFYING.contains(f)) {
        return Err("no email, document key or name: nothing says who this is".to_owned());
    }
    let mut hash = Sha256::new();
    let id = match columns.id {
        Some(i) => {
            let id = cells.get(i).map_or("", |c| c.trim());
            if id.is_empty() {
                return Err(format!("`{}` (the record id) is empty", header(i)));
            }
            Some(id)
        }
        None => None,
    };
    hash.update(id.unwrap_or_default().as_bytes());
    for (field, value) in &values {
        hash.update([0]);
        hash.update(field.as_str().as_bytes());
        hash.update([b'=']);
        hash.update(value.as_bytes());
    }
    let digest = hex::encode(hash.finalize());
    let object_id = match id {
        Some(id) => id.to_owned(),
        None => format!("row-{}", &digest[..32]),
    };
    Ok(ValidRow {
        line,
        object_id,
        values,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{domain::source::Source, hostile_text::text, import::columns::ImportSource};

    fn columns() -> (ImportColumns, Vec<String>) {
        let headers: Vec<String> = ["id", "Email", "NIF", "Phone", "DOB", "First Name"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let cols = ImportColumns::resolve(
            "c.csv",
            &headers,
            ImportSource::Csv(Source::HubSpot),
            &crate::import::columns::Mapping::default(),
            &[],
        )
        .unwrap();
        (cols, headers)
    }

    fn check(cells: &[&str]) -> Result<ValidRow, String> {
        let (cols, headers) = columns();
        validate(&cols, &headers, cells, 7, Some(Country::ES))
    }

    #[test]
    fn each_rule_names_the_column_it_refused() {
        let ok = [
            "1",
            "ana@example.com",
            "12345678Z",
            "612345678",
            "1987-04-12",
            "Ana",
        ];
        assert_eq!(check(&ok).unwrap().object_id, "1");
        let cases = [
            (0, "", "`id` (the record id) is empty"),
            (1, "ana@", "`Email`: invalid email"),
            (2, "12345678A", "`NIF`: the NIF/NIE/CIF check character is wrong"),
            (3, "12", "`Phone`: invalid phone"),
            (4, "31/02/1987", "`DOB`: invalid date of birth"),
        ];
        for (column, bad, reason) in cases {
            let mut cells = ok;
            cells[column] = bad;
            assert_eq!(check(&cells).unwrap_err(), reason);
        }
        let nobody = check(&["2", "", "", "612345678", "", ""]).unwrap_err();
        assert!(nobody.starts_with("no email, document key or name"), "{nobody}");
    }

    #[test]
    fn the_same_values_make_the_same_digest_and_a_changed_one_another() {
        let a = check(&["1", "ana@example.com", "", "", "", "Ana"]).unwrap();
        let b = check(&["1", "ana@example.com ", "", "", "", "Ana"]).unwrap();
        let c = check(&["1", "ana@example.com", "", "", "", "Anna"]).unwrap();
        assert_eq!(a.digest, b.digest);
        assert_ne!(a.digest, c.digest);
    }

    proptest! {
        #[test]
        fn any_cells_validate_or_are_refused_without_panicking(cells in proptest::collection::vec(text(), 0..8)) {
            let (cols, headers) = columns();
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            let _ = validate(&cols, &headers, &cells, 2, None);
        }
    }
}
