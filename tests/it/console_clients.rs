//! The console's Clients pages over HTTP: search as you type, a client's golden values with
//! their provenance, its records and timeline, and a split undone from that timeline, each
//! checked against the rows behind the page.

use entity::operators::Role;
use reqwest::StatusCode;

use crate::{
    console::{Browser, audit_rows},
    helpers::{Backend, now_ms},
    operator::{OperatedApp, operator_app, phones_disagree},
};

on_both_backends!(
    typing_part_of_an_email_or_a_clickup_id_finds_the_client_and_links_to_its_page,
    the_client_page_shows_each_golden_value_with_its_source_and_both_linked_records,
    a_record_split_off_in_the_console_is_undone_from_the_new_clients_timeline,
    a_viewer_sees_no_split_or_undo_buttons_and_their_posts_are_refused,
);

async fn signed_in(app: &OperatedApp) -> Browser {
    let mut browser = Browser::new(app);
    browser.sign_in_with_token(&app.token).await;
    browser
}

async fn only_client(app: &OperatedApp) -> uuid::Uuid {
    let clients = app.clients().await;
    assert_eq!(clients.len(), 1, "one golden client");
    clients[0].id
}

async fn task_client(app: &OperatedApp) -> Option<uuid::Uuid> {
    app.source_records()
        .await
        .into_iter()
        .find(|r| r.external_id == "task:t1")
        .and_then(|r| r.client_id)
}

/// Posts the client page's "Split off" form for ClickUp task t1.
async fn split_task(
    app: &OperatedApp,
    browser: &Browser,
    csrf: &str,
    client: uuid::Uuid,
) -> reqwest::Response {
    let split = [("csrf", csrf), ("source", "clickup"), ("external_id", "task:t1")];
    browser
        .post(
            &format!("/console/clients/{client}/split"),
            Some(&app.address),
            &split,
        )
        .await
}

async fn typing_part_of_an_email_or_a_clickup_id_finds_the_client_and_links_to_its_page(backend: Backend) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 10_000).await;
    let id = only_client(&app).await;
    let browser = signed_in(&app).await;

    let (status, fragment) = browser.get("/console/clients/results?q=eva%40example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(fragment.contains(&format!("/console/clients/{id}")), "{fragment}");
    assert!(fragment.contains("by email"), "{fragment}");
    assert!(!fragment.contains("<html"), "htmx gets a fragment, not a page");

    let (_, fragment) = browser.get("/console/clients/results?q=task%3At1").await;
    assert!(fragment.contains(&format!("/console/clients/{id}")), "{fragment}");

    let (_, fragment) = browser
        .get("/console/clients/results?q=nobody%40example.com")
        .await;
    assert!(fragment.contains("No client matches"), "{fragment}");
    assert!(!fragment.contains("/console/clients/"), "{fragment}");

    let (status, page) = browser.get("/console/clients?q=eva%40example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"hx-get="/console/clients/results""#),
        "the box searches as you type"
    );
    assert!(
        page.contains(&format!("/console/clients/{id}")),
        "without htmx the page lists hits"
    );
}

async fn the_client_page_shows_each_golden_value_with_its_source_and_both_linked_records(backend: Backend) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 10_000).await;
    let id = only_client(&app).await;
    let browser = signed_in(&app).await;

    let (status, page) = browser.get(&format!("/console/clients/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let phone_row = page
        .split(r#"<tr id="golden-phone">"#)
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("a golden phone row");
    assert!(
        phone_row.contains("+34611111111"),
        "HubSpot's phone won: {phone_row}"
    );
    assert!(phone_row.contains("hubspot"), "{phone_row}");
    assert!(page.contains(r#"data-record="hubspot/contact:1""#), "{page}");
    assert!(page.contains(r#"data-record="clickup/task:t1""#), "{page}");
    assert!(page.contains("+34622222222"), "ClickUp's own phone beside it");
    let conflict = app.conflicts().await.remove(0);
    assert!(
        page.contains(&format!("/console/review/{}", conflict.id)),
        "the open conflict"
    );
    assert!(
        page.contains(r#"class="entry-event""#),
        "the timeline lists the events"
    );
    assert_eq!(
        page.matches("Split off").count(),
        2,
        "each record can be split off"
    );

    let (status, _) = browser
        .get(&format!("/console/clients/{}", uuid::Uuid::nil()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_record_split_off_in_the_console_is_undone_from_the_new_clients_timeline(backend: Backend) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 10_000).await;
    let shared = only_client(&app).await;
    let browser = signed_in(&app).await;
    let csrf = browser.csrf().await;

    let response = split_task(&app, &browser, &csrf, shared).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let apart = task_client(&app).await.expect("the task sits on a client");
    assert_ne!(apart, shared);
    assert_eq!(
        response.headers()[reqwest::header::LOCATION],
        format!("/console/clients/{apart}").as_str()
    );
    assert_eq!(app.clients().await.len(), 2);

    let (_, page) = browser.get(&format!("/console/clients/{apart}")).await;
    let moved = audit_rows(&app)
        .await
        .into_iter()
        .find(|r| r.action == "record.move")
        .expect("the split is audited");
    let undo_path = format!("/console/audit/{}/undo", moved.id);
    assert!(page.contains(&undo_path), "the move has an Undo button: {page}");

    let back = shared.to_string();
    let form = [("csrf", csrf.as_str()), ("back_to", back.as_str())];
    let response = browser.post(&undo_path, Some(&app.address), &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[reqwest::header::LOCATION],
        format!("/console/clients/{shared}").as_str()
    );
    assert_eq!(task_client(&app).await, Some(shared), "the task is back");
    assert_eq!(app.clients().await.len(), 1, "the split-off client is gone");
    let undo = audit_rows(&app)
        .await
        .into_iter()
        .find(|r| r.action == "audit.undo")
        .expect("the undo is audited");
    assert_eq!(undo.undoes, Some(moved.id));
    assert_eq!(undo.via, "console");

    let again = browser.post(&undo_path, Some(&app.address), &form).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "a second undo is refused");
}

async fn a_viewer_sees_no_split_or_undo_buttons_and_their_posts_are_refused(backend: Backend) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 10_000).await;
    let shared = only_client(&app).await;
    let token = app.add_operator("vera", Role::Viewer).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&token).await;

    let (status, page) = browser.get(&format!("/console/clients/{shared}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Split off"));
    let csrf = browser.csrf().await;
    let response = split_task(&app, &browser, &csrf, shared).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(task_client(&app).await, Some(shared), "nothing moved");
}
