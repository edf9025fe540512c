//! Which column of an export feeds which client field, per source: HubSpot's and ClickUp's own
//! export headers, or for any CSV the common header names of `clientsync match`; a `--mapping`
//! file names columns the built-in names miss. A file whose columns do not fit is refused here,
//! before any row is read.

use std::path::Path;

use crate::{
    batch::{
        ColumnMap, ColumnOverride,
        columns::{fold_header, header_position},
    },
    domain::source::{ObjectKind, Source},
    reconcile::Field,
    sources::mapping::FieldMapping,
};

use super::ImportError;

/// HubSpot contact export headers (folded) → fields, beside the internal property names.
const HUBSPOT_HEADERS: &[(&str, Field)] = &[
    ("first_name", Field::GivenName),
    ("last_name", Field::FamilyName),
    ("email", Field::Email),
    ("phone_number", Field::Phone),
    ("mobile_phone_number", Field::Phone),
    ("company_name", Field::Company),
    ("street_address", Field::Street),
    ("city", Field::City),
    ("postal_code", Field::Postcode),
    ("state_region", Field::Region),
    ("date_of_birth", Field::DateOfBirth),
    ("tax_id", Field::DocumentKey),
    ("vat_number", Field::DocumentKey),
    ("document_key", Field::DocumentKey),
];

/// Id headers (folded) of each export.
const HUBSPOT_ID: &[&str] = &["record_id", "hs_object_id", "contact_id"];
const CLICKUP_ID: &[&str] = &["task_id", "id"];

/// Fields that can tell one client from another; a row needs one of them.
pub const IDENTIFYING: [Field; 6] = [
    Field::Email,
    Field::DocumentKey,
    Field::Name,
    Field::GivenName,
    Field::FamilyName,
    Field::Company,
];

/// What kind of file is imported, and so whose records its rows become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportSource {
    /// A HubSpot contacts export: rows are HubSpot contacts, by `Record ID`.
    HubSpot,
    /// A ClickUp list export: rows are ClickUp tasks, by `Task ID`.
    ClickUp,
    /// Any CSV, its records attributed to the named source (whose precedence they then take).
    Csv(Source),
}

impl ImportSource {
    /// Whose records the rows become.
    pub fn source(self) -> Source {
        match self {
            ImportSource::HubSpot => Source::HubSpot,
            ImportSource::ClickUp => Source::ClickUp,
            ImportSource::Csv(source) => source,
        }
    }

    /// The kind of record each row is.
    pub fn kind(self) -> ObjectKind {
        match self.source() {
            Source::HubSpot => ObjectKind::Contact,
            Source::ClickUp => ObjectKind::Task,
        }
    }

    /// Stored with the run, and part of what a resumed run must match.
    pub fn label(self) -> String {
        match self {
            ImportSource::HubSpot => "hubspot".to_owned(),
            ImportSource::ClickUp => "clickup".to_owned(),
            ImportSource::Csv(source) => format!("csv as {source}"),
        }
    }
}

/// A `--mapping` file: `field = Header` lines, `id = Header` for the record id column, `#`
/// comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// The header of the record id column.
    pub id: Option<String>,
    /// Field → header lines, in file order.
    pub columns: Vec<ColumnOverride>,
}

impl Mapping {
    /// Reads a mapping file; a bad line is named by its number.
    pub fn read(path: &Path) -> Result<Self, ImportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
            file: path.display().to_string(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses mapping text, naming `file` in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, ImportError> {
        let mut mapping = Mapping::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |problem: String| ImportError::Mapping {
                file: file.to_owned(),
                line: n as u64 + 1,
                problem,
            };
            match line.split_once('=') {
                Some((key, header)) if key.trim() == "id" => mapping.id = Some(header.trim().to_owned()),
                _ => mapping.columns.push(
                    line.parse()
                        .map_err(|e: crate::batch::BatchError| bad(e.to_string()))?,
                ),
            }
        }
        Ok(mapping)
    }
}

/// Column positions of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportColumns {
    /// The record id column; `None` (any CSV without one) makes each row's id a hash of its values.
    pub id: Option<usize>,
    /// (field, position) for every mapped field.
    pub fields: Vec<(Field, usize)>,
    /// (header, position) of each `--stat` column.
    pub stats: Vec<(String, usize)>,
}

impl ImportColumns {
    /// Maps `headers` of `file` for `source`: the mapping file first, then built-in names;
    /// refuses a file with no id column where the source's exports have one, with no column
    /// that can identify a client, or without a `--stat` column asked for.
    pub fn resolve(
        file: &str,
        headers: &[String],
        source: ImportSource,
        mapping: &Mapping,
        stats: &[String],
    ) -> Result<Self, ImportError> {
        let folded: Vec<String> = headers.iter().map(|h| fold_header(h)).collect();
        let position = |wanted: &str| header_position(headers, &folded, wanted);
        let missing = |header: &str| ImportError::MissingColumn {
            file: file.to_owned(),
            header: header.to_owned(),
            headers: headers.join(", "),
        };
        let (id, fields) = match source {
            ImportSource::Csv(_) => {
                let map = ColumnMap::resolve(file, headers, mapping.id.as_deref(), &mapping.columns)
                    .map_err(|e| ImportError::Columns(e.to_string()))?;
                (map.id, map.fields)
            }
            ImportSource::HubSpot | ImportSource::ClickUp => {
                let (ids, expected) = match source {
                    ImportSource::HubSpot => (HUBSPOT_ID, "Record ID"),
                    _ => (CLICKUP_ID, "Task ID"),
                };
                let id = match &mapping.id {
                    Some(name) => position(name).ok_or_else(|| missing(name))?,
                    None => ids
                        .iter()
                        .find_map(|alias| folded.iter().position(|h| h == alias))
                        .ok_or_else(|| ImportError::NoIdColumn {
                            file: file.to_owned(),
                            export: source.label(),
                            expected,
                        })?,
                };
                let mut fields = Vec::new();
                for o in &mapping.columns {
                    fields.push((
                        o.field(),
                        position(o.header()).ok_or_else(|| missing(o.header()))?,
                    ));
                }
                let built_in = FieldMapping::default();
                for (i, (header, fold)) in headers.iter().zip(&folded).enumerate() {
                    if i == id || fields.iter().any(|(_, p)| *p == i) {
                        continue;
                    }
                    let field = match source {
                        ImportSource::HubSpot => HUBSPOT_HEADERS
                            .iter()
                            .find(|(h, _)| h == fold)
                            .map(|(_, f)| *f)
                            .or_else(|| built_in.hubspot("contact", header.trim())),
                        _ if fold == "task_name" => Some(Field::Name),
                        _ => built_in.clickup(None, Some(header.trim())),
                    };
                    if let Some(field) = field.filter(|f| !fields.iter().any(|(g, _)| g == f)) {
                        fields.push((field, i));
                    }
                }
                fields.sort_unstable();
                (Some(id), fields)
            }
        };
        if !fields.iter().any(|(f, _)| IDENTIFYING.contains(f)) {
            return Err(ImportError::NoIdentifyingColumn {
                file: file.to_owned(),
                headers: headers.join(", "),
            });
        }
        let stats = stats
            .iter()
            .map(|name| Ok((name.clone(), position(name).ok_or_else(|| missing(name))?)))
            .collect::<Result<_, ImportError>>()?;
        Ok(Self { id, fields, stats })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_hubspot_export_maps_by_its_own_labels_and_record_id() {
        let cols = ImportColumns::resolve(
            "contacts.csv",
            &headers(&[
                "Record ID",
                "First Name",
                "Last Name",
                "Email",
                "Phone Number",
                "NIF",
                "Amount",
            ]),
            ImportSource::HubSpot,
            &Mapping::default(),
            &["Amount".into()],
        )
        .unwrap();
        assert_eq!(cols.id, Some(0));
        assert!(cols.fields.contains(&(Field::DocumentKey, 5)));
        assert!(cols.fields.contains(&(Field::Phone, 4)));
        assert_eq!(cols.stats, vec![("Amount".to_owned(), 6)]);
    }

    #[test]
    fn a_clickup_export_maps_task_name_and_custom_fields_in_spanish() {
        let cols = ImportColumns::resolve(
            "tasks.csv",
            &headers(&["Task ID", "Task Name", "Correo", "Teléfono"]),
            ImportSource::ClickUp,
            &Mapping::default(),
            &[],
        )
        .unwrap();
        assert_eq!(
            cols.fields,
            vec![(Field::Name, 1), (Field::Email, 2), (Field::Phone, 3)]
        );
    }

    #[test]
    fn a_file_whose_columns_do_not_fit_is_refused_naming_what_is_missing() {
        let err = ImportColumns::resolve(
            "pairs.csv",
            &headers(&["left_id", "right_id", "probability"]),
            ImportSource::Csv(Source::HubSpot),
            &Mapping::default(),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("pairs.csv"), "{err}");
        let err = ImportColumns::resolve(
            "tasks.csv",
            &headers(&["Email", "Name"]),
            ImportSource::HubSpot,
            &Mapping::default(),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("Record ID"), "{err}");
        let err = ImportColumns::resolve(
            "c.csv",
            &headers(&["Email"]),
            ImportSource::Csv(Source::HubSpot),
            &Mapping::default(),
            &["amount".into()],
        )
        .unwrap_err();
        assert!(err.to_string().contains("`amount`"), "{err}");
    }

    #[test]
    fn a_mapping_file_names_columns_and_its_bad_lines() {
        let mapping = Mapping::parse("m.txt", "# ours\nid = Código\nemail = Correo-e\n").unwrap();
        assert_eq!(mapping.id.as_deref(), Some("Código"));
        let cols = ImportColumns::resolve(
            "c.csv",
            &headers(&["Código", "Correo-e"]),
            ImportSource::Csv(Source::ClickUp),
            &mapping,
            &[],
        )
        .unwrap();
        assert_eq!((cols.id, cols.fields), (Some(0), vec![(Field::Email, 1)]));
        let err = Mapping::parse("m.txt", "email = Correo\ncolour = Red\n").unwrap_err();
        assert!(err.to_string().starts_with("m.txt, line 2:"), "{err}");
    }
}
