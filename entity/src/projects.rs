//! Client projects: a ClickUp project task and the HubSpot deal linked to it, as one record.

use sea_orm::entity::prelude::*;

/// A project row; `clickup_values` and `hubspot_values` map field name to `{value, at_ms,
/// event}`, each side's latest word, from which the golden columns are derived.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The golden client, once the client's own task is linked to one.
    pub client_id: Option<Uuid>,
    pub clickup_task_id: String,
    pub hubspot_deal_id: Option<String>,
    /// The client's ClickUp task, as the project task names it.
    pub client_task_id: Option<String>,
    pub name: Option<String>,
    pub product_type: Option<String>,
    pub status: Option<String>,
    pub time_estimate_ms: Option<i64>,
    pub time_spent_ms: Option<i64>,
    pub due_at_ms: Option<i64>,
    pub payment_status: Option<String>,
    pub amount_cents: Option<i64>,
    pub clickup_values: Json,
    pub hubspot_values: Json,
    pub deleted: bool,
    pub last_event_at_ms: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The client the project belongs to.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::clients::Entity",
        from = "Column::ClientId",
        to = "super::clients::Column::Id",
        on_delete = "SetNull"
    )]
    Client,
}

impl Related<super::clients::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Client.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
