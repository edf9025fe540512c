//! Where a planned write lands at its source, and in what shape: the HubSpot property a row's
//! field is written to, and the ClickUp custom field with the value as that field's type takes
//! it. Client rows are placed by the field mapping, project rows by the `[projects]` section.

use entity::outbox::{Model as Row, OutboxSubject};
use serde_json::Value;

use crate::{
    config::ProjectsConfig,
    domain::name::fold,
    reconcile::{Field, project::ProjectField},
    sources::{mapping::FieldMapping, project::custom_field, scalar_text},
};

/// How rows are placed: client fields by the mapping, project fields by the projects config
/// (`None` while projects are off, when a project row has no place).
pub(super) struct Places<'a> {
    /// Client fields' property and custom field names.
    pub mapping: &'a FieldMapping,
    /// Project fields' deal properties and task custom fields.
    pub projects: Option<&'a ProjectsConfig>,
}

/// Whether a row names a field of its subject (a row that does not is corrupt).
pub(super) fn knows_field(row: &Row) -> bool {
    match row.subject {
        OutboxSubject::Client => Field::parse(&row.field).is_some(),
        OutboxSubject::Project => ProjectField::parse(&row.field).is_some(),
    }
}

impl Places<'_> {
    /// The HubSpot property a row's value is written to.
    pub(super) fn hubspot_property(&self, row: &Row) -> Option<String> {
        match row.subject {
            OutboxSubject::Client => {
                Field::parse(&row.field).and_then(|field| self.mapping.hubspot_property_for(&row.kind, field))
            }
            OutboxSubject::Project => {
                let field = ProjectField::parse(&row.field)?;
                Some(self.projects?.deal_property(field).to_owned())
            }
        }
    }

    /// The task's custom field for a row, with the value in that field's shape.
    pub(super) fn clickup_value(&self, fields: &[Value], row: &Row) -> Option<(String, Value)> {
        match row.subject {
            OutboxSubject::Client => {
                let field = Field::parse(&row.field)?;
                let custom = fields.iter().find(|f| {
                    self.mapping.clickup(
                        f.get("id").and_then(Value::as_str),
                        f.get("name").and_then(Value::as_str),
                    ) == Some(field)
                })?;
                shaped(custom, &row.value)
            }
            OutboxSubject::Project => {
                let field = ProjectField::parse(&row.field)?;
                let custom = custom_field(fields, self.projects?.task_field(field)?)?;
                project_shaped(custom, field, &row.value)
            }
        }
    }
}

/// A project value as the field takes it: an amount (stored in cents) as a number in a number or
/// currency field and as a decimal text elsewhere; anything else as a client value.
fn project_shaped(custom: &Value, field: ProjectField, value: &str) -> Option<(String, Value)> {
    if field != ProjectField::Amount {
        return shaped(custom, value);
    }
    let cents: u64 = value.parse().ok()?;
    let decimal = format!("{}.{:02}", cents / 100, cents % 100);
    match custom.get("type").and_then(Value::as_str) {
        Some("currency" | "number") => {
            let id = custom.get("id").and_then(Value::as_str)?.to_owned();
            let number: f64 = decimal.parse().ok()?;
            Some((id, serde_json::json!(number)))
        }
        _ => shaped(custom, &decimal),
    }
}

/// `value` in the shape the custom field's type takes: a dropdown its option's UUID (matched by
/// name), everything else the text.
fn shaped(custom: &Value, value: &str) -> Option<(String, Value)> {
    let id = custom.get("id").and_then(Value::as_str)?.to_owned();
    if custom.get("type").and_then(Value::as_str) == Some("drop_down") {
        let wanted = fold(value);
        let option = custom
            .pointer("/type_config/options")?
            .as_array()?
            .iter()
            .find(|o| {
                o.get("name")
                    .and_then(scalar_text)
                    .is_some_and(|n| fold(&n) == wanted)
            });
        let Some(option) = option else {
            tracing::warn!(field = %id, %value, "no dropdown option by that name; not written");
            return None;
        };
        return Some((id, option.get("id")?.clone()));
    }
    Some((id, Value::String(value.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_amount_in_cents_goes_to_a_text_field_as_a_decimal_and_to_a_currency_field_as_a_number() {
        let text = json!({"id": "a", "name": "Amount", "type": "short_text"});
        let currency = json!({"id": "c", "name": "Amount", "type": "currency"});
        assert_eq!(
            project_shaped(&text, ProjectField::Amount, "150005"),
            Some(("a".into(), json!("1500.05")))
        );
        assert_eq!(
            project_shaped(&currency, ProjectField::Amount, "150050"),
            Some(("c".into(), json!(1500.5)))
        );
        assert_eq!(project_shaped(&text, ProjectField::Amount, "not cents"), None);
    }

    #[test]
    fn a_payment_status_goes_to_a_dropdown_as_the_option_of_that_name() {
        let dropdown = json!({"id": "p", "name": "Payment status", "type": "drop_down",
            "type_config": {"options": [{"id": "o1", "name": "Paid"}, {"id": "o2", "name": "Pending"}]}});
        assert_eq!(
            project_shaped(&dropdown, ProjectField::PaymentStatus, "pending"),
            Some(("p".into(), json!("o2")))
        );
        assert_eq!(
            project_shaped(&dropdown, ProjectField::PaymentStatus, "Refunded"),
            None
        );
    }
}
