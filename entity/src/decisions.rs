//! Automatic match decisions with their evidence: why a record sits on its client.

use sea_orm::entity::prelude::*;

/// What the engine decided about a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DecisionKind {
    /// Linked to an existing client, by an exact key or a fuzzy score.
    #[sea_orm(string_value = "link")]
    Link,
    /// No client matched: a new one was made from the record.
    #[sea_orm(string_value = "new_client")]
    NewClient,
    /// Several candidates, or one too doubtful: left to an operator.
    #[sea_orm(string_value = "ambiguous")]
    Ambiguous,
    /// The record's keys proved two or more clients one person: they became one.
    #[sea_orm(string_value = "merge")]
    Merge,
    /// A record that alone fed its client was recognised as another client's and moved there.
    #[sea_orm(string_value = "move")]
    Move,
    /// The record's keys point at clients that contradict each other: nothing merged.
    #[sea_orm(string_value = "collision")]
    Collision,
    /// A record placed by a score no longer fits its client on what it holds now: it left.
    #[sea_orm(string_value = "split")]
    Split,
}

/// One decision row; appended, never updated.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: DecisionKind,
    pub source: String,
    pub external_id: String,
    pub event_id: String,
    pub client_id: Option<Uuid>,
    pub from_client_id: Option<Uuid>,
    pub probability: Option<f64>,
    pub evidence: Json,
    pub model_version: String,
    pub decided_at: DateTimeUtc,
}

/// No relations: a decision outlives the clients it names.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
