//! A field mismatch's client field by field: HubSpot's value, ClickUp's, and the golden one side
//! by side, each golden value with the record and time that set it and the rule that chose it
//! (an operator's pin, else HubSpot's value, else ClickUp's: the precedence `reconcile::merge`
//! applies), so a steward sees the disputed field in the context of the whole client.

use std::collections::BTreeSet;

use crate::{
    console::layout::when,
    domain::{ids::ClientId, source::Source},
    reconcile::Field,
    store::{StoreError, clients, records},
};

/// One field of the client, as each side has it.
pub struct FieldRow {
    /// The field.
    pub field: &'static str,
    /// HubSpot's value(s) on the client's records, empty when none.
    pub hubspot: String,
    /// ClickUp's value(s), as `hubspot`.
    pub clickup: String,
    /// The golden value now.
    pub golden: String,
    /// The record that set it (`source/external id`), or who pinned it.
    pub from: String,
    /// When it was set.
    pub set_at: String,
    /// Why that value is golden.
    pub rule: &'static str,
    /// The field this conflict is about.
    pub disputed: bool,
}

/// Why a golden value won, from where it came and whether an operator pinned it.
pub fn rule(pinned: bool, source: Option<&str>, clickup_differs: bool) -> &'static str {
    match (pinned, source) {
        (true, _) => "pinned by an operator: stands until cleared",
        (false, Some("hubspot")) if clickup_differs => "HubSpot wins over ClickUp",
        (false, Some("hubspot")) => "HubSpot's value",
        (false, Some("clickup")) => "HubSpot has none: ClickUp's value",
        (false, _) => "",
    }
}

/// The client's fields that any side has a value for, in the fields' order.
pub async fn rows(
    db: &impl sea_orm::ConnectionTrait,
    client: ClientId,
    disputed: Option<Field>,
) -> Result<Vec<FieldRow>, StoreError> {
    let Some((row, provenance)) = clients::find_with_provenance(db, client).await? else {
        return Ok(Vec::new());
    };
    let held = records::linked_active(db, client).await?;
    let values = |source: Source, field: Field| {
        held.iter()
            .filter(|r| r.source == source)
            .filter_map(|r| r.fields.value(field))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(" / ")
    };
    Ok(Field::ALL
        .into_iter()
        .filter_map(|field| {
            let (hubspot, clickup) = (values(Source::HubSpot, field), values(Source::ClickUp, field));
            let golden = clients::value_of(&row, field).unwrap_or_default().to_owned();
            if hubspot.is_empty() && clickup.is_empty() && golden.is_empty() {
                return None;
            }
            let set = provenance.get(&field);
            let pinned = set.is_some_and(|p| p.pinned);
            let clickup_differs = !clickup.is_empty() && clickup != golden;
            Some(FieldRow {
                field: field.as_str(),
                from: set
                    .map(|p| match pinned {
                        true => format!("pinned by {}", p.external_id),
                        false => format!("{}/{}", p.source, p.external_id),
                    })
                    .unwrap_or_default(),
                set_at: set
                    .map(|p| when(chrono::DateTime::from_timestamp_millis(p.set_at_ms)))
                    .unwrap_or_default(),
                rule: rule(pinned, set.map(|p| p.source.as_str()), clickup_differs),
                disputed: disputed == Some(field),
                hubspot,
                clickup,
                golden,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_outranks_every_source_and_hubspot_outranks_clickup() {
        assert_eq!(
            rule(true, Some("hubspot"), true),
            "pinned by an operator: stands until cleared"
        );
        assert_eq!(rule(false, Some("hubspot"), true), "HubSpot wins over ClickUp");
        assert_eq!(rule(false, Some("hubspot"), false), "HubSpot's value");
        assert_eq!(
            rule(false, Some("clickup"), false),
            "HubSpot has none: ClickUp's value"
        );
        assert_eq!(rule(false, None, false), "");
    }
}
