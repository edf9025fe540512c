//! Which HubSpot properties and ClickUp custom fields feed which client fields. Built-in names
//! cover common setups (English and Spanish); configuration adds a portal's own properties,
//! a ClickUp field by its id (names can be renamed, ids cannot), or unmaps a built-in one.

use std::collections::{BTreeMap, HashMap};

use crate::{domain::name::fold, reconcile::Field};

/// Contact properties that feed golden fields.
const CONTACT_PROPERTIES: &[(&str, Field)] = &[
    ("email", Field::Email),
    ("firstname", Field::GivenName),
    ("lastname", Field::FamilyName),
    ("phone", Field::Phone),
    ("mobilephone", Field::Phone),
    ("company", Field::Company),
    ("date_of_birth", Field::DateOfBirth),
    ("address", Field::Street),
    ("city", Field::City),
    ("zip", Field::Postcode),
    ("state", Field::Region),
    ("project_status", Field::ProjectStatus),
    ("payment_status", Field::PaymentStatus),
];

/// Company properties that feed golden fields.
const COMPANY_PROPERTIES: &[(&str, Field)] = &[
    ("name", Field::Name),
    ("phone", Field::Phone),
    ("address", Field::Street),
    ("address2", Field::Address2),
    ("city", Field::City),
    ("zip", Field::Postcode),
    ("state", Field::Region),
    ("project_status", Field::ProjectStatus),
    ("payment_status", Field::PaymentStatus),
];

/// Custom properties commonly holding a tax document key, on contacts and companies alike.
const DOCUMENT_KEY_PROPERTIES: &[&str] = &["tax_id", "nif", "cif", "vat_number", "document_key"];

/// ClickUp custom field names (folded: case- and accent-insensitive) that feed golden fields.
const CUSTOM_FIELDS: &[(&str, Field)] = &[
    ("email", Field::Email),
    ("e-mail", Field::Email),
    ("correo", Field::Email),
    ("document key", Field::DocumentKey),
    ("tax id", Field::DocumentKey),
    ("nif", Field::DocumentKey),
    ("cif", Field::DocumentKey),
    ("vat number", Field::DocumentKey),
    ("phone", Field::Phone),
    ("telefono", Field::Phone),
    ("company", Field::Company),
    ("empresa", Field::Company),
    ("first name", Field::GivenName),
    ("given name", Field::GivenName),
    ("last name", Field::FamilyName),
    ("family name", Field::FamilyName),
    ("surname", Field::FamilyName),
    ("date of birth", Field::DateOfBirth),
    ("fecha de nacimiento", Field::DateOfBirth),
    ("address", Field::Street),
    ("direccion", Field::Street),
    ("city", Field::City),
    ("ciudad", Field::City),
    ("postcode", Field::Postcode),
    ("zip", Field::Postcode),
    ("codigo postal", Field::Postcode),
    ("region", Field::Region),
    ("state", Field::Region),
    ("provincia", Field::Region),
    ("project status", Field::ProjectStatus),
    ("estado del proyecto", Field::ProjectStatus),
    ("payment status", Field::PaymentStatus),
    ("estado de pago", Field::PaymentStatus),
];

/// A configured entry that cannot be used; names the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}` maps to `{value}`, which is not a client field (one of: {known}, or \"none\")")]
pub struct MappingError {
    /// The property or custom field.
    pub key: String,
    /// What it was mapped to.
    pub value: String,
    /// The accepted field names.
    pub known: String,
}

/// The mapping the worker reads events with.
#[derive(Debug, Clone)]
pub struct FieldMapping {
    /// Configured HubSpot properties (lowercase), for contacts and companies alike;
    /// `None` unmaps a built-in property.
    hubspot: HashMap<String, Option<Field>>,
    /// Configured ClickUp custom fields, by id as given or by folded name.
    clickup: HashMap<String, Option<Field>>,
}

impl Default for FieldMapping {
    /// The built-in names only.
    fn default() -> Self {
        Self {
            hubspot: HashMap::new(),
            clickup: HashMap::new(),
        }
    }
}

fn parse_target(key: &str, value: &str) -> Result<Option<Field>, MappingError> {
    if value.eq_ignore_ascii_case("none") || value.is_empty() {
        return Ok(None);
    }
    Field::parse(value).map(Some).ok_or_else(|| MappingError {
        key: key.to_owned(),
        value: value.to_owned(),
        known: Field::ALL
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

impl FieldMapping {
    /// The built-in names plus configured entries (`property = "field"`, `"none"` to unmap).
    pub fn configured(
        hubspot: &BTreeMap<String, String>,
        clickup: &BTreeMap<String, String>,
    ) -> Result<Self, MappingError> {
        let hubspot = hubspot
            .iter()
            .map(|(k, v)| Ok((k.to_ascii_lowercase(), parse_target(k, v)?)))
            .collect::<Result<_, MappingError>>()?;
        let clickup = clickup
            .iter()
            .map(|(k, v)| Ok((k.clone(), parse_target(k, v)?)))
            .collect::<Result<HashMap<_, _>, MappingError>>()?;
        // Names are matched folded; ids exactly. A key is tried both ways.
        let clickup = clickup
            .into_iter()
            .flat_map(|(k, v)| {
                let folded = fold(&k);
                [(k, v), (folded, v)]
            })
            .collect();
        Ok(Self { hubspot, clickup })
    }

    /// The field a HubSpot property of a `contact` or `company` feeds.
    pub fn hubspot(&self, kind: &str, property: &str) -> Option<Field> {
        let property = property.to_ascii_lowercase();
        if let Some(configured) = self.hubspot.get(&property) {
            return *configured;
        }
        if DOCUMENT_KEY_PROPERTIES.contains(&property.as_str()) {
            return Some(Field::DocumentKey);
        }
        let table = if kind == "company" {
            COMPANY_PROPERTIES
        } else {
            CONTACT_PROPERTIES
        };
        table.iter().find(|(p, _)| *p == property).map(|(_, f)| *f)
    }

    /// The property write-back sets for `field` on a HubSpot object of `kind`: a configured one
    /// first, else the first built-in name.
    pub fn hubspot_property_for(&self, kind: &str, field: Field) -> Option<String> {
        let mut configured: Vec<&String> = self
            .hubspot
            .iter()
            .filter(|(_, f)| **f == Some(field))
            .map(|(p, _)| p)
            .collect();
        configured.sort();
        if let Some(first) = configured.first() {
            return Some((*first).clone());
        }
        let table = if kind == "company" {
            COMPANY_PROPERTIES
        } else {
            CONTACT_PROPERTIES
        };
        table
            .iter()
            .find(|(p, f)| *f == field && self.hubspot(kind, p) == Some(field))
            .map(|(p, _)| (*p).to_owned())
    }

    /// Every property worth reading from a HubSpot object of `kind`: built-in and configured
    /// names that map to a field, and the last-change time.
    pub fn hubspot_properties(&self, kind: &str) -> Vec<String> {
        let table = if kind == "company" {
            COMPANY_PROPERTIES
        } else {
            CONTACT_PROPERTIES
        };
        let mut names: Vec<String> = table
            .iter()
            .map(|(p, _)| *p)
            .chain(DOCUMENT_KEY_PROPERTIES.iter().copied())
            .map(str::to_owned)
            .chain(self.hubspot.keys().cloned())
            .filter(|p| self.hubspot(kind, p).is_some())
            .chain([if kind == "company" {
                "hs_lastmodifieddate"
            } else {
                "lastmodifieddate"
            }
            .to_owned()])
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The field a ClickUp custom field feeds: by configured id, then configured name, then
    /// built-in name.
    pub fn clickup(&self, id: Option<&str>, name: Option<&str>) -> Option<Field> {
        if let Some(configured) = id.and_then(|id| self.clickup.get(id)) {
            return *configured;
        }
        let folded = fold(name?);
        if let Some(configured) = self.clickup.get(&folded) {
            return *configured;
        }
        CUSTOM_FIELDS.iter().find(|(n, _)| *n == folded).map(|(_, f)| *f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn built_in_names_map_without_configuration() {
        let m = FieldMapping::default();
        assert_eq!(m.hubspot("contact", "FirstName"), Some(Field::GivenName));
        assert_eq!(m.hubspot("company", "name"), Some(Field::Name));
        assert_eq!(m.hubspot("contact", "nif"), Some(Field::DocumentKey));
        assert_eq!(m.clickup(Some("any-id"), Some("Teléfono")), Some(Field::Phone));
        assert_eq!(m.hubspot("contact", "hs_lead_status"), None);
    }

    #[test]
    fn configuration_adds_properties_maps_clickup_ids_and_unmaps_built_ins() {
        let m = FieldMapping::configured(
            &map(&[("numero_fiscal", "document_key"), ("mobilephone", "none")]),
            &map(&[("5ba1-c0ffee", "document_key"), ("Móvil", "phone")]),
        )
        .unwrap();
        assert_eq!(m.hubspot("contact", "NUMERO_FISCAL"), Some(Field::DocumentKey));
        assert_eq!(m.hubspot("contact", "mobilephone"), None);
        assert_eq!(
            m.clickup(Some("5ba1-c0ffee"), Some("Identificador")),
            Some(Field::DocumentKey)
        );
        assert_eq!(m.clickup(Some("other"), Some("movil")), Some(Field::Phone));
        assert_eq!(m.clickup(None, Some("Email")), Some(Field::Email));
    }

    #[test]
    fn an_unknown_field_name_is_refused_naming_the_entry() {
        let err = FieldMapping::configured(&map(&[("nif", "tax")]), &BTreeMap::new()).unwrap_err();
        assert_eq!(err.key, "nif");
        assert!(err.to_string().contains("document_key"), "{err}");
    }
}
