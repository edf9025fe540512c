//! `clientsync backfill` with projects configured: the deals and the project lists' tasks the
//! webhooks never brought become projects through the project path, and a second run over the
//! same objects applies nothing.

use clientsync::backfill::{Report, Scope, Since};
use entity::projects;
use sea_orm::{EntityTrait, QueryOrder};
use tokio_util::sync::CancellationToken;

use crate::{
    helpers::{Backend, SimApp},
    projects::{PROJECT_LIST, spawn_with_projects},
    write_back::ana_in_sync,
};

on_both_backends!(
    a_backfill_makes_projects_of_deals_and_project_tasks_the_webhooks_never_brought_and_a_second_run_changes_nothing,
);

async fn backfill(t: &SimApp) -> Report {
    t.backfill()
        .run(Scope::All, Since::Everything, &CancellationToken::new())
        .await
        .expect("backfill runs")
}

async fn projects(t: &SimApp) -> Vec<projects::Model> {
    projects::Entity::find()
        .order_by_asc(projects::Column::Id)
        .all(&t.app.db)
        .await
        .expect("projects")
}

/// One stream's outcome counts, by outcome name.
type Outcomes = Vec<(&'static str, u64)>;

/// The outcomes of the project streams: (deals, project tasks).
fn project_outcomes(report: &Report) -> (Outcomes, Outcomes) {
    let of = |stream: &str| -> Outcomes {
        report
            .streams
            .get(stream)
            .map(|s| s.outcomes.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default()
    };
    (
        of("hubspot:deal"),
        of(&format!("clickup:projects:{PROJECT_LIST}")),
    )
}

async fn a_backfill_makes_projects_of_deals_and_project_tasks_the_webhooks_never_brought_and_a_second_run_changes_nothing(
    backend: Backend,
) {
    let t = spawn_with_projects(backend).await;
    let (_, client_task) = ana_in_sync(&t).await;
    let task = t
        .sim
        .create_task(
            PROJECT_LIST,
            "Logo",
            &[("Client", &client_task), ("Product type", "Branding")],
        )
        .expect("project task created");
    let deal = t.sim.create_deal(&[
        ("dealname", "Logo"),
        ("clickup_task_id", &task),
        ("amount", "800"),
        ("payment_status", "Paid"),
    ]);
    t.sim
        .create_deal(&[("dealname", "Consulting"), ("amount", "300")]);
    t.sim.discard_pending();
    assert!(projects(&t).await.is_empty(), "no webhook brought the project");

    let first = backfill(&t).await;

    assert_eq!(
        project_outcomes(&first),
        (vec![("ignored", 1), ("project", 1)], vec![("project", 1)]),
        "the deal naming no task is stored and changes nothing: {first:?}"
    );
    let rows = projects(&t).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let p = &rows[0];
    assert_eq!(p.client_id, Some(t.app.clients().await[0].id));
    assert_eq!(
        (p.clickup_task_id.as_str(), p.hubspot_deal_id.as_deref()),
        (task.as_str(), Some(deal.as_str()))
    );
    assert_eq!(p.name.as_deref(), Some("Logo"));
    assert_eq!(p.product_type.as_deref(), Some("Branding"));
    assert_eq!(p.status.as_deref(), Some("to do"));
    assert_eq!(p.amount_cents, Some(80_000));
    assert_eq!(p.payment_status.as_deref(), Some("Paid"));

    let second = backfill(&t).await;

    assert_eq!(
        project_outcomes(&second),
        (vec![("duplicate", 2)], vec![("duplicate", 1)]),
        "{second:?}"
    );
    assert_eq!(projects(&t).await, rows, "the second run changed no project");
}
