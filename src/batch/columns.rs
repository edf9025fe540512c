//! Which CSV column feeds which client field: by common header names, or as the user says.

use crate::reconcile::Field;

use super::BatchError;

/// Header names recognised for each field, in folded form (lowercase, `_` for separators).
const ALIASES: &[(Field, &[&str])] = &[
    (Field::Email, &["email", "e_mail", "email_address", "mail"]),
    (
        Field::DocumentKey,
        &[
            "document_key",
            "tax_id",
            "taxid",
            "vat",
            "vat_id",
            "nif",
            "cif",
            "nie",
            "dni",
            "soc_sec_id",
            "ssn",
            "national_id",
            "id_number",
        ],
    ),
    (
        Field::Phone,
        &["phone", "phone_number", "telephone", "tel", "mobile"],
    ),
    (
        Field::GivenName,
        &["first_name", "given_name", "firstname", "forename", "given"],
    ),
    (
        Field::FamilyName,
        &["last_name", "surname", "family_name", "lastname"],
    ),
    (
        Field::Name,
        &[
            "company",
            "name",
            "company_name",
            "full_name",
            "organisation",
            "organization",
        ],
    ),
    (Field::StreetNumber, &["street_number", "house_number"]),
    (
        Field::Street,
        &["street", "address_1", "address1", "address", "street_address"],
    ),
    (Field::Address2, &["address_2", "address2"]),
    (Field::City, &["city", "suburb", "town", "locality"]),
    (
        Field::Postcode,
        &[
            "postcode",
            "zip",
            "zip_code",
            "zipcode",
            "postal_code",
            "postalcode",
        ],
    ),
    (Field::Region, &["state", "region", "province", "county"]),
    (
        Field::DateOfBirth,
        &["date_of_birth", "dob", "birth_date", "birthdate"],
    ),
];

/// Headers that name a record id when `--id` is not given.
const ID_ALIASES: &[&str] = &["id", "rec_id", "record_id"];

/// A header as compared with the aliases: trimmed, lowercase, other characters as `_`.
pub fn fold_header(h: &str) -> String {
    let lower: String = h
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    lower.trim_matches('_').to_owned()
}

/// Where a header the user named stands: as written, else folded like the aliases (`folded`
/// holds `headers` folded).
pub fn header_position(headers: &[String], folded: &[String], wanted: &str) -> Option<usize> {
    headers
        .iter()
        .position(|h| h.trim() == wanted)
        .or_else(|| folded.iter().position(|h| *h == fold_header(wanted)))
}

/// A user's `field=header` override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnOverride {
    field: Field,
    header: String,
}

impl ColumnOverride {
    /// The field the column feeds.
    pub fn field(&self) -> Field {
        self.field
    }

    /// The header of the column, as the user wrote it.
    pub fn header(&self) -> &str {
        &self.header
    }
}

impl std::str::FromStr for ColumnOverride {
    type Err = BatchError;
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (field, header) = spec
            .split_once('=')
            .ok_or_else(|| BatchError::BadColumnSpec(spec.to_owned()))?;
        let field =
            Field::parse(field.trim()).ok_or_else(|| BatchError::UnknownField(field.trim().to_owned()))?;
        Ok(Self {
            field,
            header: header.trim().to_owned(),
        })
    }
}

/// Column positions of one file: the id column, and the column of each field it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    /// Position of the id column; `None` means the data line number is the id.
    pub id: Option<usize>,
    /// (field, position) for every mapped field.
    pub fields: Vec<(Field, usize)>,
}

impl ColumnMap {
    /// Maps `headers` of `file`: overrides first, then common names; fails when an asked-for
    /// header is absent or when nothing maps at all.
    pub fn resolve(
        file: &str,
        headers: &[String],
        id: Option<&str>,
        overrides: &[ColumnOverride],
    ) -> Result<Self, BatchError> {
        let folded: Vec<String> = headers.iter().map(|h| fold_header(h)).collect();
        let position = |wanted: &str| header_position(headers, &folded, wanted);
        let missing = |header: &str| BatchError::MissingColumn {
            file: file.to_owned(),
            header: header.to_owned(),
        };
        let id = match id {
            Some(name) => Some(position(name).ok_or_else(|| missing(name))?),
            None => ID_ALIASES
                .iter()
                .find_map(|alias| folded.iter().position(|h| h == alias)),
        };
        let mut fields = Vec::new();
        for o in overrides {
            fields.push((o.field, position(&o.header).ok_or_else(|| missing(&o.header))?));
        }
        for (field, aliases) in ALIASES {
            if fields.iter().any(|(f, _)| f == field) {
                continue;
            }
            let found = aliases.iter().find_map(|alias| {
                folded
                    .iter()
                    .enumerate()
                    .find(|(i, h)| *h == alias && Some(*i) != id && !fields.iter().any(|(_, p)| p == i))
                    .map(|(i, _)| i)
            });
            if let Some(i) = found {
                fields.push((*field, i));
            }
        }
        if fields.is_empty() {
            return Err(BatchError::NoKnownColumns {
                file: file.to_owned(),
            });
        }
        fields.sort_unstable();
        Ok(Self { id, fields })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile_text::text;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn common_header_names_map_to_fields_whatever_their_case_and_spacing() {
        let map = ColumnMap::resolve(
            "a.csv",
            &headers(&["Rec ID", "First Name", "Surname", "ZIP", "Tax-ID"]),
            None,
            &[],
        )
        .unwrap();
        assert_eq!(map.id, Some(0));
        assert_eq!(
            map.fields,
            vec![
                (Field::GivenName, 1),
                (Field::FamilyName, 2),
                (Field::DocumentKey, 4),
                (Field::Postcode, 3)
            ]
        );
    }

    #[test]
    fn an_override_wins_over_the_common_name() {
        let over: ColumnOverride = "email=Correo".parse().unwrap();
        let map = ColumnMap::resolve("a.csv", &headers(&["email", "Correo"]), None, &[over]).unwrap();
        assert_eq!(map.fields, vec![(Field::Email, 1)]);
    }

    #[test]
    fn an_asked_for_column_that_is_absent_is_named() {
        let err = ColumnMap::resolve("a.csv", &headers(&["email"]), Some("uid"), &[]).unwrap_err();
        assert_eq!(err.to_string(), "a.csv: no column named `uid`");
        let err = "colour=red".parse::<ColumnOverride>().unwrap_err();
        assert!(err.to_string().contains("colour"));
    }

    #[test]
    fn a_file_with_no_known_column_is_refused() {
        let err = ColumnMap::resolve("a.csv", &headers(&["foo", "bar"]), None, &[]).unwrap_err();
        assert!(matches!(err, BatchError::NoKnownColumns { .. }));
    }

    proptest! {
        #[test]
        fn any_headers_and_overrides_map_or_are_refused_without_panicking(
            names in proptest::collection::vec(text(), 0..8),
            id in proptest::option::of(text()),
            specs in proptest::collection::vec(text(), 0..3),
        ) {
            let overrides: Vec<ColumnOverride> = specs.iter().filter_map(|s| s.parse().ok()).collect();
            if let Ok(map) = ColumnMap::resolve("a.csv", &names, id.as_deref(), &overrides) {
                prop_assert!(map.fields.iter().all(|(_, i)| *i < names.len()));
                prop_assert!(map.id.is_none_or(|i| i < names.len()));
            }
        }

        #[test]
        fn a_known_header_in_any_surrounding_text_is_found_or_refused_without_panicking(
            noise in text(),
            spec in text(),
        ) {
            let names = vec![format!("{noise}email{noise}"), noise.clone(), "Tax-ID".to_owned()];
            let _ = spec.parse::<ColumnOverride>();
            let map = ColumnMap::resolve("a.csv", &names, None, &[]);
            prop_assert!(map.is_ok());
        }
    }
}
