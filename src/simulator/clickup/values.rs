//! How written custom-field values are stored and how history items show them: text as
//! strings; `drop_down` written as option UUID (or index), stored and read as orderindex,
//! shown in history by option UUID. The field types live here too.

use serde_json::{Value, json};

use super::{
    ClickUpError,
    store::{Actor, FieldDef},
};

/// One option of a `drop_down` field.
#[derive(Debug, Clone)]
pub(crate) struct DropOption {
    /// Option UUID (what writes send).
    pub id: String,
    /// Label.
    pub name: String,
    /// Colour shown in ClickUp.
    pub color: String,
    /// Position (what reads return as the value).
    pub orderindex: u64,
}

/// A custom field's type.
#[derive(Debug, Clone)]
pub(crate) enum FieldKind {
    /// `email`.
    Email,
    /// `phone`.
    Phone,
    /// `short_text`.
    ShortText,
    /// `drop_down` with its options.
    DropDown(Vec<DropOption>),
}

impl FieldKind {
    /// ClickUp's type name.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            FieldKind::Email => "email",
            FieldKind::Phone => "phone",
            FieldKind::ShortText => "short_text",
            FieldKind::DropDown(_) => "drop_down",
        }
    }
}

/// Reads a written value into its stored form; `None` clears. The UI may also name a
/// `drop_down` option by label.
pub(crate) fn stored_value(
    field: &FieldDef,
    value: &Value,
    actor: Actor,
) -> Result<Option<Value>, ClickUpError> {
    match (&field.kind, value) {
        (_, Value::Null) => Ok(None),
        (FieldKind::DropDown(options), v) => {
            let option = options.iter().find(|o| match v {
                Value::String(s) => o.id == *s || (actor == Actor::Ui && o.name.eq_ignore_ascii_case(s)),
                Value::Number(n) => n.as_u64() == Some(o.orderindex),
                _ => false,
            });
            option
                .map(|o| Some(json!(o.orderindex)))
                .ok_or(ClickUpError::BadOption)
        }
        (_, Value::String(s)) if s.is_empty() => Ok(None),
        (_, Value::String(s)) => Ok(Some(json!(s))),
        _ => Err(ClickUpError::BadValue(field.kind.name())),
    }
}

/// How a history item shows a value: `drop_down` options by UUID, text as is.
pub(crate) fn history_value(field: &FieldDef, stored: Option<Value>) -> Value {
    match (&field.kind, stored) {
        (_, None) => Value::Null,
        (FieldKind::DropDown(options), Some(v)) => options
            .iter()
            .find(|o| v.as_u64() == Some(o.orderindex))
            .map_or(Value::Null, |o| json!(o.id)),
        (_, Some(v)) => v,
    }
}
