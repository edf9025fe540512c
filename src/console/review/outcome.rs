//! What each review action would do, for its preview: a sentence, and for each client it
//! touches the golden values that would change (`preview`), plus the value a pin would store
//! (normalized by `steward::pin_value`, as Confirm would store it). Nothing is written.

use super::{Action, Chosen, mismatch, preview};
use crate::{
    api::ApiState,
    console::error::ConsoleError,
    domain::ids::ClientId,
    steward,
    store::records::{self, SourceRecord},
};

/// One client's changes in a preview.
pub struct Effect {
    /// Which client, and how the decision touches it.
    pub title: String,
    /// Its golden values that would change.
    pub changes: Vec<preview::Change>,
}

/// What a preview shows.
pub struct Outcome {
    /// The decision in a sentence.
    pub summary: String,
    /// The clients it touches.
    pub effects: Vec<Effect>,
    /// For a pin, the value Confirm sends.
    pub value: Option<String>,
}

/// What `chosen` would do to `row`'s clients.
pub async fn of(
    state: &ApiState,
    row: &entity::conflicts::Model,
    chosen: &Chosen,
) -> Result<Outcome, ConsoleError> {
    match chosen.action {
        Action::KeepHubspot | Action::AcceptClickup | Action::Pin => of_field(state, row, chosen).await,
        Action::Link | Action::NotAMatch | Action::Split => of_record(state, row, chosen).await,
    }
}

/// A field mismatch's decisions: the client's golden values with the pin (or none) applied.
async fn of_field(
    state: &ApiState,
    row: &entity::conflicts::Model,
    chosen: &Chosen,
) -> Result<Outcome, ConsoleError> {
    let (client, field) = mismatch(row)?;
    let (summary, pin, value) = match chosen.action {
        Action::AcceptClickup => (
            "ClickUp's value is pinned over HubSpot's until the pin is cleared.".to_owned(),
            Some(row.clickup_value.clone()),
            None,
        ),
        Action::Pin => {
            let v = steward::pin_value(&state.matching, field, chosen.pinned()?)?;
            let summary = format!(
                "“{v}” is pinned as the {}, over both sources, until the pin is cleared.",
                field.as_str()
            );
            (summary, Some(Some(v.clone())), Some(v))
        }
        _ => (
            "HubSpot's value stays golden; this pair is not asked about again.".to_owned(),
            None,
            None,
        ),
    };
    let changes = match pin {
        Some(pinned) => preview::with_pin(&state.db, client, field, pinned).await?,
        None => preview::of_client(&state.db, Some(client), None, None).await?,
    };
    Ok(Outcome {
        summary,
        effects: vec![Effect {
            title: "The golden client".into(),
            changes,
        }],
        value,
    })
}

/// A doubtful record's decisions: the clients it would join and leave.
async fn of_record(
    state: &ApiState,
    row: &entity::conflicts::Model,
    chosen: &Chosen,
) -> Result<Outcome, ConsoleError> {
    let db = &state.db;
    let mut effects = Vec::new();
    let named = format!("Record {}/{}", row.source, row.external_id);
    let summary = match chosen.action {
        Action::Link => {
            let target = chosen
                .client_id
                .ok_or_else(|| ConsoleError::BadRequest("a link needs `client_id`".into()))?;
            let record = record_of(state, row).await?;
            let to = ClientId::from_uuid(target);
            effects.push(Effect {
                title: format!("Client {target}, which the record joins"),
                changes: preview::of_client(db, Some(to), Some(&record), None).await?,
            });
            if let Some(from) = record.client_id.filter(|c| *c != to) {
                effects.push(Effect {
                    title: format!("Client {from}, which the record leaves"),
                    changes: preview::of_client(db, Some(from), None, Some(&record)).await?,
                });
            }
            format!("{named} joins client {target}.")
        }
        Action::Split => {
            let record = record_of(state, row).await?;
            effects.push(Effect {
                title: "A new client, made for the record".into(),
                changes: preview::of_client(db, None, Some(&record), None).await?,
            });
            if let Some(from) = record.client_id {
                effects.push(Effect {
                    title: format!("Client {from}, which the record leaves"),
                    changes: preview::of_client(db, Some(from), None, Some(&record)).await?,
                });
            }
            format!("{named} moves to a client of its own and stays there whatever later events say.")
        }
        _ => format!(
            "{named} is told apart from every client offered and matched again without them \
             (usually a client of its own). No golden value of the clients offered changes."
        ),
    };
    Ok(Outcome {
        summary,
        effects,
        value: None,
    })
}

async fn record_of(state: &ApiState, row: &entity::conflicts::Model) -> Result<SourceRecord, ConsoleError> {
    records::find_many(&state.db, &[(row.source.clone(), row.external_id.clone())])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ConsoleError::Unprocessable(format!("record {}/{} is gone", row.source, row.external_id))
        })
}
