//! Projects end to end against the simulated APIs: a task in a project list and the deal that
//! names it become one project of the client, each system owning its fields, with the
//! disagreements recorded as conflicts and deletions applied.

use clientsync::{
    cli::{ReportArgs, ReportFormat, run_report},
    reports::ReportName,
    simulator::{SimConfig, TaskStatus},
    startup::Role,
};
use entity::{conflicts::ConflictStatus, operators, projects};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, SimApp, hubspot_secret, spawn_app_with_sim_config},
    write_back::{ana_in_sync, settle},
};

on_both_backends!(
    a_project_task_and_its_deal_become_one_project_of_the_client_each_owning_its_fields,
    a_status_change_in_clickup_reaches_the_project_and_a_deleted_task_marks_it_deleted,
    a_deal_that_names_no_project_task_is_stored_and_changes_nothing,
    the_project_reports_sum_time_by_product_count_statuses_and_show_what_each_client_owes,
);

const CLIENT_LIST: &str = "901200000101";
pub(crate) const PROJECT_LIST: &str = "901200000202";

/// The simulator with a client list and a project list, and the app configured to match.
pub(crate) async fn spawn_with_projects(backend: Backend) -> SimApp {
    let sim = SimConfig {
        hubspot_client_secret: hubspot_secret(),
        clickup_list_ids: vec![CLIENT_LIST.into(), PROJECT_LIST.into()],
        ..SimConfig::default()
    };
    spawn_app_with_sim_config(backend, Role::Receiver, sim, |c| {
        c.clickup.list_ids = vec![CLIENT_LIST.into()];
        c.projects.clickup_list_ids = vec![PROJECT_LIST.into()];
    })
    .await
}

async fn projects(t: &SimApp) -> Vec<projects::Model> {
    projects::Entity::find().all(&t.app.db).await.expect("projects")
}

async fn a_project_task_and_its_deal_become_one_project_of_the_client_each_owning_its_fields(
    backend: Backend,
) {
    let t = spawn_with_projects(backend).await;
    let (_, client_task) = ana_in_sync(&t).await;
    let project_task = t
        .sim
        .create_task(
            PROJECT_LIST,
            "Tienda online",
            &[
                ("Client", &client_task),
                ("Product type", "Web"),
                ("Amount", "1000"),
            ],
        )
        .expect("project task created");
    let deal = t.sim.create_deal(&[
        ("dealname", "Tienda online (deal)"),
        ("clickup_task_id", &project_task),
        ("amount", "1500.50"),
        ("payment_status", "Pending"),
    ]);
    settle(&t).await;

    let clients = t.app.clients().await;
    assert_eq!(clients.len(), 1, "the project task is not a client: {clients:?}");
    let rows = projects(&t).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let p = &rows[0];
    assert_eq!(p.client_id, Some(clients[0].id));
    assert_eq!(p.clickup_task_id, project_task);
    assert_eq!(p.hubspot_deal_id.as_deref(), Some(deal.as_str()));
    assert_eq!(p.name.as_deref(), Some("Tienda online"), "ClickUp owns the name");
    assert_eq!(p.status.as_deref(), Some("to do"));
    assert_eq!(p.product_type.as_deref(), Some("Web"));
    assert_eq!(p.amount_cents, Some(150_050), "HubSpot owns the amount");
    assert_eq!(p.payment_status.as_deref(), Some("Pending"));
    assert!(!p.deleted);

    let mut disputed: Vec<(String, Option<String>, Option<String>)> = t
        .app
        .conflicts()
        .await
        .into_iter()
        .filter(|c| c.status == ConflictStatus::Open && c.external_id == format!("project:{project_task}"))
        .map(|c| (c.field.unwrap_or_default(), c.hubspot_value, c.clickup_value))
        .collect();
    disputed.sort();
    assert_eq!(
        disputed,
        vec![
            (
                "project.amount".to_owned(),
                Some("150050".to_owned()),
                Some("100000".to_owned())
            ),
            (
                "project.name".to_owned(),
                Some("Tienda online (deal)".to_owned()),
                Some("Tienda online".to_owned())
            ),
        ],
        "each side's differing value is recorded against the owner's"
    );

    // Such a conflict is not settled like a client's: there is no golden value to pin ClickUp's
    // amount over HubSpot's, and the refusal says where to settle it.
    let amount = t
        .app
        .conflicts()
        .await
        .into_iter()
        .find(|c| c.field.as_deref() == Some("project.amount"))
        .expect("the amount conflict");
    let refused = clientsync::steward::resolve(
        &t.app.db,
        &clientsync::reconcile::Matching::default(),
        amount.id,
        clientsync::steward::Resolution::AcceptClickup,
        &clientsync::domain::Actor::cli(Some("test")),
    )
    .await
    .expect_err("accepting ClickUp's value for a project is refused");
    assert!(
        refused
            .to_string()
            .contains("change it in the system that owns it"),
        "{refused}"
    );
}

async fn a_status_change_in_clickup_reaches_the_project_and_a_deleted_task_marks_it_deleted(
    backend: Backend,
) {
    let t = spawn_with_projects(backend).await;
    let (_, client_task) = ana_in_sync(&t).await;
    let project_task = t
        .sim
        .create_task(PROJECT_LIST, "Logo", &[("Client", &client_task)])
        .expect("project task created");
    settle(&t).await;

    t.sim
        .set_status(&project_task, TaskStatus::InProgress)
        .expect("status set");
    settle(&t).await;
    let rows = projects(&t).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status.as_deref(), Some("in progress"));

    t.sim.delete_task(&project_task).expect("task deleted");
    settle(&t).await;
    let rows = projects(&t).await;
    assert!(rows[0].deleted, "the project is marked deleted: {rows:?}");
    assert_eq!(t.app.clients().await.len(), 1, "the client stays");
}

async fn a_deal_that_names_no_project_task_is_stored_and_changes_nothing(backend: Backend) {
    let t = spawn_with_projects(backend).await;
    let deal = t
        .sim
        .create_deal(&[("dealname", "Consulting"), ("amount", "300")]);
    settle(&t).await;

    assert!(projects(&t).await.is_empty());
    let about_deal: Vec<_> = t
        .app
        .inbox()
        .await
        .into_iter()
        .filter(|e| e.object_id == deal)
        .collect();
    assert!(!about_deal.is_empty(), "the deal's events were received");
    assert!(
        about_deal.iter().all(|e| e
            .last_error
            .as_deref()
            .is_some_and(|r| r.contains("names no project task"))),
        "{about_deal:?}"
    );
}

async fn the_project_reports_sum_time_by_product_count_statuses_and_show_what_each_client_owes(
    backend: Backend,
) {
    let t = spawn_with_projects(backend).await;
    let (_, client_task) = ana_in_sync(&t).await;
    let project_task = t
        .sim
        .create_task(
            PROJECT_LIST,
            "Tienda",
            &[("Client", &client_task), ("Product type", "Web")],
        )
        .expect("project task created");
    t.sim.create_deal(&[
        ("dealname", "Tienda"),
        ("clickup_task_id", &project_task),
        ("amount", "1500.50"),
        ("payment_status", "Pending"),
    ]);
    settle(&t).await;
    // Two more, as rows: one Web project with time (the simulator's tasks carry none), paid,
    // and one whose client is not known yet, unpaid.
    let now = chrono::Utc::now();
    for (task, status, payment, estimate, spent, amount) in [
        ("p2", "in progress", "paid", 7_200_000, 5_400_000, 90_000),
        ("p3", "to do", "Overdue", 3_600_000, 0, 20_000),
    ] {
        projects::Model {
            id: uuid::Uuid::now_v7(),
            client_id: None,
            clickup_task_id: task.into(),
            hubspot_deal_id: None,
            client_task_id: None,
            name: Some(task.into()),
            product_type: Some("Web".into()),
            status: Some(status.into()),
            time_estimate_ms: Some(estimate),
            time_spent_ms: Some(spent),
            due_at_ms: None,
            payment_status: Some(payment.into()),
            amount_cents: Some(amount),
            clickup_values: json!({}),
            hubspot_values: json!({}),
            deleted: false,
            last_event_at_ms: 1,
            created_at: now,
            updated_at: now,
        }
        .into_active_model()
        .insert(&t.app.db)
        .await
        .expect("project row");
    }
    let db = &t.app.db;
    let csv = |name| async move {
        let args = ReportArgs {
            name,
            days: 1,
            format: ReportFormat::Csv,
        };
        run_report(db, &args, now).await.expect("report")
    };

    assert_eq!(
        csv(ReportName::ProjectTime).await,
        "product_type,projects,estimated_hours,tracked_hours\nWeb,3,3.00,1.50\n"
    );
    assert_eq!(
        csv(ReportName::ProjectsByStatus).await,
        "status,projects\nto do,2\nin progress,1\n"
    );
    let client = t.app.clients().await[0].clone();
    assert_eq!(
        csv(ReportName::UnpaidByClient).await,
        format!(
            "client_id,client_name,projects,unpaid\n{},{},1,1500.50\n,,1,200.00\n",
            client.id,
            client.name.unwrap_or_default()
        ),
        "the paid project is left out; the one without a client is shown apart"
    );

    let token = t.app.add_operator("vera", operators::Role::Viewer).await;
    let response = t
        .app
        .client
        .get(format!("{}/api/v1/reports/unpaid-by-client", t.app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["report"], "unpaid-by-client");
    assert_eq!(body["clients"][0]["unpaid_cents"], 150_050);
}
