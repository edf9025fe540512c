//! Project reports, as of now (deleted projects left out): estimated against tracked time by
//! product type, projects by status, and what each client has not paid yet. Summed and counted
//! in SQL; sums are cast to BIGINT because Postgres widens `SUM(bigint)` to `numeric`.

use entity::{
    clients,
    projects::{self, Column as C},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Table;

/// A payment status that counts as paid (compared ignoring case); anything else is unpaid.
const PAID: &str = "paid";

/// Estimated against tracked time, by product type.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProjectTime {
    /// One row per product type (projects with none are under `null`).
    pub products: Vec<ProductTime>,
}

/// One product type's time.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProductTime {
    /// The product type.
    pub product_type: Option<String>,
    /// Projects of it.
    pub projects: u64,
    /// Their estimates added up, in hours.
    pub estimated_hours: f64,
    /// Their tracked time added up, in hours.
    pub tracked_hours: f64,
}

/// How many projects stand at each status.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProjectsByStatus {
    /// One row per status, most projects first.
    pub statuses: Vec<StatusCount>,
}

/// One status and its projects.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatusCount {
    /// The status (`null`: not reported yet).
    pub status: Option<String>,
    /// Projects at it.
    pub projects: u64,
}

/// What each client has not paid yet.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UnpaidByClient {
    /// One row per client with an unpaid amount, largest first.
    pub clients: Vec<ClientUnpaid>,
}

/// One client's unpaid projects.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClientUnpaid {
    /// The client (`null`: projects whose client is not known yet).
    pub client_id: Option<Uuid>,
    /// The client's name.
    pub client_name: Option<String>,
    /// Unpaid projects.
    pub projects: u64,
    /// Their amounts added up, in cents.
    pub unpaid_cents: i64,
}

/// Time by product type, now.
pub async fn time(db: &impl ConnectionTrait) -> Result<ProjectTime, DbErr> {
    let rows: Vec<(Option<String>, i64, i64, i64)> = live()
        .column(C::ProductType)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(time_estimate_ms), 0) AS BIGINT)"),
            "estimated",
        )
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(time_spent_ms), 0) AS BIGINT)"),
            "tracked",
        )
        .group_by(C::ProductType)
        .order_by_asc(C::ProductType)
        .into_tuple()
        .all(db)
        .await?;
    let hours = |ms: i64| ms as f64 / 3_600_000.0;
    Ok(ProjectTime {
        products: rows
            .into_iter()
            .map(|(product_type, n, estimated, tracked)| ProductTime {
                product_type,
                projects: u64::try_from(n).unwrap_or(0),
                estimated_hours: hours(estimated),
                tracked_hours: hours(tracked),
            })
            .collect(),
    })
}

/// Projects by status, now.
pub async fn by_status(db: &impl ConnectionTrait) -> Result<ProjectsByStatus, DbErr> {
    let mut rows: Vec<(Option<String>, i64)> = live()
        .column(C::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(C::Status)
        .into_tuple()
        .all(db)
        .await?;
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(ProjectsByStatus {
        statuses: rows
            .into_iter()
            .map(|(status, n)| StatusCount {
                status,
                projects: u64::try_from(n).unwrap_or(0),
            })
            .collect(),
    })
}

/// Unpaid amounts by client, now: projects whose payment status is not `paid`.
pub async fn unpaid(db: &impl ConnectionTrait) -> Result<UnpaidByClient, DbErr> {
    let mut rows: Vec<(Option<Uuid>, i64, i64)> = live()
        .column(C::ClientId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)"),
            "unpaid",
        )
        .filter(
            sea_orm::Condition::any()
                .add(C::PaymentStatus.is_null())
                .add(ExprTrait::ne(Func::lower(Expr::col(C::PaymentStatus)), PAID)),
        )
        .group_by(C::ClientId)
        .into_tuple()
        .all(db)
        .await?;
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let ids: Vec<Uuid> = rows.iter().filter_map(|(id, _, _)| *id).collect();
    let names: Vec<(Uuid, String)> = clients::Entity::find()
        .select_only()
        .columns([clients::Column::Id, clients::Column::Name])
        .filter(clients::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(id, name)| name.map(|n| (id, n)))
        .collect();
    Ok(UnpaidByClient {
        clients: rows
            .into_iter()
            .map(|(client_id, n, unpaid_cents)| ClientUnpaid {
                client_name: client_id
                    .and_then(|id| names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone())),
                client_id,
                projects: u64::try_from(n).unwrap_or(0),
                unpaid_cents,
            })
            .collect(),
    })
}

/// Projects that are not deleted, selecting nothing yet.
fn live() -> sea_orm::Select<projects::Entity> {
    projects::Entity::find()
        .select_only()
        .filter(C::Deleted.eq(false))
}

/// Cents as a decimal amount: `150050` → `1500.50`.
fn amount(cents: i64) -> String {
    format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        (cents / 100).abs(),
        (cents % 100).abs()
    )
}

impl ProjectTime {
    /// One row per product type.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&["product_type", "projects", "estimated_hours", "tracked_hours"]);
        for p in &self.products {
            table.push(vec![
                p.product_type.clone().unwrap_or_default(),
                p.projects.to_string(),
                format!("{:.2}", p.estimated_hours),
                format!("{:.2}", p.tracked_hours),
            ]);
        }
        table
    }
}

impl ProjectsByStatus {
    /// One row per status.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&["status", "projects"]);
        for s in &self.statuses {
            table.push(vec![s.status.clone().unwrap_or_default(), s.projects.to_string()]);
        }
        table
    }
}

impl UnpaidByClient {
    /// One row per client.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&["client_id", "client_name", "projects", "unpaid"]);
        for c in &self.clients {
            table.push(vec![
                c.client_id.map(|id| id.to_string()).unwrap_or_default(),
                c.client_name.clone().unwrap_or_default(),
                c.projects.to_string(),
                amount(c.unpaid_cents),
            ]);
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::amount;

    #[test]
    fn cents_print_as_a_decimal_amount() {
        assert_eq!(amount(150_050), "1500.50");
        assert_eq!(amount(5), "0.05");
        assert_eq!(amount(-250), "-2.50");
    }
}
