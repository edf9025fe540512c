//! The console's Events page over HTTP: dead and recent events with filters and an escaped
//! payload view, replay of one event and of many by filter (dry run, progress, cancel), and the
//! write-back outbox with retry; each action through the API's service functions, audited once
//! with via=console, refused to viewers and to forms without the CSRF token.

use std::time::Duration;

use entity::{
    inbox_events::{self, InboxStatus},
    operators::Role,
    outbox::{self, OutboxStatus},
};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;

use crate::{
    bulk::{admin_app, seed_dead, until_ended},
    console::{Browser, audit_rows},
    dead_events_api::{failed_project_writeback, failed_writeback, three_dead_events},
    helpers::{Backend, TestApp, hubspot_property, now_ms, spawn_app_with},
    operator::{OperatedApp, operator_app},
};

on_both_backends!(
    dead_events_are_listed_by_filter_and_paged_and_their_payload_is_shown_escaped,
    replaying_a_dead_event_from_the_console_writes_one_audit_row_and_the_worker_applies_it,
    a_viewer_sees_no_replay_or_retry_buttons_and_their_posts_are_refused_with_nothing_changed,
    a_replay_without_the_csrf_token_is_refused_and_nothing_is_queued,
    recent_events_are_newest_first_and_filtered_by_source_type_and_status,
    a_failed_write_back_is_retried_from_the_outbox_page_with_one_audit_row,
    a_bulk_replay_counts_first_then_runs_as_a_job_whose_progress_polls_until_it_ends,
    a_bulk_replay_cancelled_from_its_page_stops_before_its_next_rows,
    bulk_jobs_are_for_admins_only,
);

/// A dead event whose payload carries markup, stored as the worker stores it.
async fn hostile_dead_event(app: &TestApp) -> String {
    let t = now_ms() - 30_000;
    let id = format!("hubspot:{t}");
    inbox_events::ActiveModel {
        id: Set(id.clone()),
        source: Set("hubspot".into()),
        event_type: Set("contact.propertyChange".into()),
        object_id: Set("77".into()),
        occurred_at_ms: Set(t),
        received_at: Set(chrono::Utc::now()),
        payload: Set(hubspot_property(
            77,
            "email",
            "<script>alert(1)</script>@example.com",
            t,
        )),
        status: Set(InboxStatus::Dead),
        attempts: Set(3),
        last_error: Set(Some("<b>refused</b>".into())),
        updated_at: Set(chrono::Utc::now()),
        payload_pruned_at: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    id
}

fn replay_form<'a>(csrf: &'a str, id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("csrf", csrf), ("id", id)]
}

async fn signed_in(app: &OperatedApp) -> Browser {
    let mut browser = Browser::new(app);
    browser.sign_in_with_token(&app.token).await;
    browser
}

async fn inbox_row(app: &TestApp, id: &str) -> inbox_events::Model {
    inbox_events::Entity::find_by_id(id.to_owned())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn dead_events_are_listed_by_filter_and_paged_and_their_payload_is_shown_escaped(backend: Backend) {
    let app = operator_app(backend).await;
    seed_dead(&app, 52, now_ms() - 600_000).await;
    let hostile = hostile_dead_event(&app).await;
    let browser = signed_in(&app).await;

    let (status, all) = browser.get("/console/events").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all.matches(r#"class="dead-event""#).count(), 50, "a page of 50");
    let marker = "/console/events?";
    let next = all
        .rfind(marker)
        .map(|at| all[at..].split('"').next().unwrap().replace("&#38;", "&"))
        .expect("a next page link");
    let (_, rest) = browser.get(&next).await;
    assert_eq!(rest.matches(r#"class="dead-event""#).count(), 3, "53 in all");
    assert!(!rest.contains("Next page"));

    let (_, one) = browser.get("/console/events?external_id=77").await;
    assert_eq!(one.matches(r#"class="dead-event""#).count(), 1);
    assert!(one.contains(&hostile));
    let (_, by_reason) = browser.get("/console/events?reason=relation").await;
    assert_eq!(by_reason.matches(r#"class="dead-event""#).count(), 50);
    assert!(by_reason.contains("Next page") && !by_reason.contains(&hostile));
    let (_, refused) = browser.get("/console/events?reason=refused").await;
    assert_eq!(refused.matches(r#"class="dead-event""#).count(), 1);
    let (_, none) = browser.get("/console/events?source=clickup").await;
    assert_eq!(none.matches(r#"class="dead-event""#).count(), 0);
    let (_, later) = browser.get("/console/events?since=2999-01-01T00:00").await;
    assert_eq!(later.matches(r#"class="dead-event""#).count(), 0);
    let (status, _) = browser.get("/console/events?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = browser.get("/console/events?source=salesforce").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, shown) = browser
        .get(&format!(
            "/console/events/show?id={}",
            hostile.replace(':', "%3A")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert!(!shown.contains("<script>alert"), "payload markup is escaped");
    assert!(shown.contains("&#60;script&#62;alert(1)&#60;"), "{shown}");
    assert!(shown.contains("&#60;b&#62;refused"), "the last error too");
    assert!(shown.contains("\n  &#34;"), "pretty-printed JSON: {shown}");
    assert!(shown.contains(r#"<dd id="event-attempts">3</dd>"#));
    assert!(shown.contains("Replay this event"));
    let (_, attention) = browser.get("/console/attention?source=hubspot").await;
    assert!(
        attention.contains(r#"href="/console/events?source=hubspot""#),
        "Needs attention links its dead events here"
    );
    let (status, _) = browser.get("/console/events/show?id=hubspot%3Anone").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn replaying_a_dead_event_from_the_console_writes_one_audit_row_and_the_worker_applies_it(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    three_dead_events(&app).await;
    let browser = signed_in(&app).await;
    let (_, list) = browser.get("/console/events?external_id=6").await;
    let id = list
        .split(r#"data-id=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the event's row")
        .to_owned();
    let before = audit_rows(&app).await.len();
    let csrf = browser.csrf().await;

    let response = browser
        .post(
            "/console/events/replay",
            Some(&app.address),
            &replay_form(&csrf, &id),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("on the work queue again"));
    let audits = audit_rows(&app).await;
    assert_eq!(audits.len(), before + 1);
    let row = audits.iter().find(|a| a.action == "event.replay").unwrap();
    assert_eq!(
        (row.target_id.as_str(), row.via.as_str()),
        (id.as_str(), "console")
    );
    assert_eq!(row.before.as_ref().unwrap()["status"], "dead");

    app.drain_worker().await;
    assert_eq!(inbox_row(&app, &id).await.status, InboxStatus::Processed);
    assert_eq!(app.clients().await.len(), 1, "the event made its client");
    let (_, list) = browser.get("/console/events").await;
    assert_eq!(list.matches(r#"class="dead-event""#).count(), 2);
    let again = browser
        .post(
            "/console/events/replay",
            Some(&app.address),
            &replay_form(&csrf, &id),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "not dead any more");
    assert_eq!(audit_rows(&app).await.len(), before + 1);
}

async fn a_viewer_sees_no_replay_or_retry_buttons_and_their_posts_are_refused_with_nothing_changed(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let dead = hostile_dead_event(&app).await;
    let write = failed_writeback(&app, uuid::Uuid::now_v7(), "hubspot", "phone").await;
    let viewer = app.add_operator("vera", Role::Viewer).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&viewer).await;

    let (status, list) = browser.get("/console/events").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&dead), "viewers may look");
    assert!(!list.contains("/console/events/replay"), "but get no replay form");
    assert!(!list.contains("/console/jobs"), "nor a bulk form");
    let (_, shown) = browser.get(&format!("/console/events/show?id={dead}")).await;
    assert!(shown.contains("Payload") && !shown.contains("Replay this event"));
    let (_, outbox) = browser.get("/console/outbox").await;
    assert!(outbox.contains(&format!("outbox-{write}")));
    assert!(!outbox.contains("/retry"));

    let before = audit_rows(&app).await.len();
    let csrf = browser.csrf().await;
    let replay = browser
        .post(
            "/console/events/replay",
            Some(&app.address),
            &replay_form(&csrf, &dead),
        )
        .await;
    assert_eq!(replay.status(), StatusCode::FORBIDDEN);
    let retry = browser
        .post(
            &format!("/console/outbox/{write}/retry"),
            Some(&app.address),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(retry.status(), StatusCode::FORBIDDEN);
    assert_eq!(inbox_row(&app, &dead).await.status, InboxStatus::Dead);
    let still = outbox::Entity::find_by_id(write)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, OutboxStatus::Failed);
    assert_eq!(audit_rows(&app).await.len(), before);
}

async fn a_replay_without_the_csrf_token_is_refused_and_nothing_is_queued(backend: Backend) {
    let app = operator_app(backend).await;
    let dead = hostile_dead_event(&app).await;
    let browser = signed_in(&app).await;
    let csrf = browser.csrf().await;
    let before = audit_rows(&app).await.len();
    for (origin, form) in [
        (Some(app.address.as_str()), vec![("id", dead.as_str())]),
        (Some(app.address.as_str()), replay_form("forged", &dead)),
        (Some("https://evil.example"), replay_form(&csrf, &dead)),
        (None, replay_form(&csrf, &dead)),
    ] {
        let response = browser.post("/console/events/replay", origin, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin:?} {form:?}");
    }
    app.drain_worker().await;
    assert_eq!(inbox_row(&app, &dead).await.status, InboxStatus::Dead);
    assert_eq!(audit_rows(&app).await.len(), before);
}

async fn recent_events_are_newest_first_and_filtered_by_source_type_and_status(backend: Backend) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    let events = json!([
        hubspot_property(1, "email", "one@example.com", t),
        hubspot_property(2, "email", "two@example.com", t + 1),
    ]);
    assert_eq!(app.post_hubspot(&events).await.status(), 200);
    app.drain_worker().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let dead = hostile_dead_event(&app).await;
    let browser = signed_in(&app).await;

    let (status, page) = browser.get("/console/events/recent").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ids: Vec<&str> = page
        .split(r#"class="recent-event" data-id=""#)
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[0], dead, "the newest first");
    let (_, processed) = browser.get("/console/events/recent?status=processed").await;
    assert_eq!(processed.matches(r#"class="recent-event""#).count(), 2);
    assert!(!processed.contains(&dead));
    let (_, dead_only) = browser
        .get("/console/events/recent?source=hubspot&type=contact.propertyChange&status=dead")
        .await;
    assert_eq!(dead_only.matches(r#"class="recent-event""#).count(), 1);
    let (_, clickup) = browser.get("/console/events/recent?source=clickup").await;
    assert_eq!(clickup.matches(r#"class="recent-event""#).count(), 0);
    let (status, _) = browser.get("/console/events/recent?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn a_failed_write_back_is_retried_from_the_outbox_page_with_one_audit_row(backend: Backend) {
    let app = operator_app(backend).await;
    let to_hubspot = failed_writeback(&app, uuid::Uuid::now_v7(), "hubspot", "project_status").await;
    let to_clickup = failed_writeback(&app, uuid::Uuid::now_v7(), "clickup", "phone").await;
    let project = uuid::Uuid::now_v7();
    let to_deal = failed_project_writeback(&app, project, "hubspot", "status").await;
    let browser = signed_in(&app).await;

    let (status, failed) = browser.get("/console/outbox?status=failed").await;
    assert_eq!(status, StatusCode::OK, "{failed}");
    assert!(
        failed.contains(&format!("outbox-{to_hubspot}")) && failed.contains(&format!("outbox-{to_clickup}"))
    );
    let (_, hubspot) = browser.get("/console/outbox?source=hubspot").await;
    assert!(hubspot.contains(&format!("outbox-{to_hubspot}")));
    assert!(!hubspot.contains(&format!("outbox-{to_clickup}")));
    assert!(hubspot.contains("refused: 400"), "the last error is shown");
    let (status, _) = browser.get("/console/outbox?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, projects) = browser.get("/console/outbox?subject=project").await;
    assert!(projects.contains(&format!("outbox-{to_deal}")), "{projects}");
    assert!(
        projects.contains(&format!(r#"<td class="subject">project {project}</td>"#)),
        "a project row names its project: {projects}"
    );
    assert!(!projects.contains(&format!("outbox-{to_hubspot}")));
    let (_, clients) = browser.get("/console/outbox?subject=client").await;
    assert!(
        clients.contains(&format!("outbox-{to_hubspot}"))
            && clients.contains(&format!("outbox-{to_clickup}"))
    );
    assert!(clients.contains(r#"<td class="subject">client</td>"#));
    assert!(!clients.contains(&format!("outbox-{to_deal}")));
    let (status, _) = browser.get("/console/outbox?subject=team").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let before = audit_rows(&app).await.len();
    let csrf = browser.csrf().await;
    let path = format!("/console/outbox/{to_hubspot}/retry");
    let response = browser.post(&path, Some(&app.address), &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let row = outbox::Entity::find_by_id(to_hubspot)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Pending, 0));
    let audits = audit_rows(&app).await;
    assert_eq!(audits.len(), before + 1);
    assert!(
        audits
            .iter()
            .any(|a| a.target_id == to_hubspot.to_string() && a.via == "console")
    );
    let again = browser.post(&path, Some(&app.address), &[("csrf", &csrf)]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "not failed any more");
    assert_eq!(audit_rows(&app).await.len(), before + 1);
}

fn job_id(location: &str) -> String {
    location.trim_start_matches("/console/jobs/").to_owned()
}

async fn a_bulk_replay_counts_first_then_runs_as_a_job_whose_progress_polls_until_it_ends(backend: Backend) {
    let app = admin_app(spawn_app_with(backend, |_| {}).await).await;
    seed_dead(&app, 5, now_ms() - 600_000).await;
    hostile_dead_event(&app).await;
    let browser = signed_in(&app).await;
    let (_, list) = browser.get("/console/events").await;
    assert!(list.contains("Replay all matching"));
    let csrf = browser.csrf().await;
    let before = audit_rows(&app).await.len();

    let count = |reason: &'static str, dry: bool| {
        let mut form = vec![
            ("csrf", csrf.clone()),
            ("action", "replay_dead".to_owned()),
            ("reason", reason.to_owned()),
        ];
        if dry {
            form.push(("dry_run", "1".to_owned()));
        }
        form
    };
    let form = count("relation", true);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dry = browser.post("/console/jobs", Some(&app.address), &form).await;
    assert_eq!(dry.status(), StatusCode::OK);
    let body = dry.text().await.unwrap();
    assert!(
        body.contains(r#"data-count="5""#),
        "the five with that reason, not the sixth: {body}"
    );
    assert_eq!(audit_rows(&app).await.len(), before, "a dry run changes nothing");

    let form = count("relation", false);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = browser.post("/console/jobs", Some(&app.address), &form).await;
    assert_eq!(started.status(), StatusCode::OK);
    let to = started.headers()["HX-Redirect"].to_str().unwrap().to_owned();
    let id = job_id(&to);
    let (status, page) = browser.get(&to).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!("/console/jobs/{id}/progress")));
    let job = until_ended(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(
        (job["status"].as_str(), job["done"].as_i64()),
        (Some("finished"), Some(5)),
        "{job}"
    );
    let (status, fragment) = browser.get(&format!("/console/jobs/{id}/progress")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        fragment.contains(r#"<strong id="job-status">finished</strong>"#),
        "{fragment}"
    );
    assert!(!fragment.contains("hx-trigger"), "an ended job is not polled");
    assert!(!fragment.contains("Cancel job"));
    let audits = audit_rows(&app).await;
    assert_eq!(audits.iter().filter(|a| a.action == "event.replay").count(), 5);
    assert!(
        audits
            .iter()
            .filter(|a| a.action.starts_with("bulk.") || a.action == "event.replay")
            .all(|a| a.via == "console")
    );
    assert_eq!(audits.iter().filter(|a| a.action == "bulk.start").count(), 1);
}

async fn a_bulk_replay_cancelled_from_its_page_stops_before_its_next_rows(backend: Backend) {
    let app = admin_app(spawn_app_with(backend, |c| c.server.bulk_rows_per_sec = 20).await).await;
    seed_dead(&app, 200, now_ms() - 600_000).await;
    let browser = signed_in(&app).await;
    let csrf = browser.csrf().await;
    let started = browser
        .post(
            "/console/jobs",
            Some(&app.address),
            &[("csrf", csrf.as_str()), ("action", "replay_dead")],
        )
        .await;
    let to = started.headers()["HX-Redirect"].to_str().unwrap().to_owned();
    let id = job_id(&to);
    let (_, running) = browser.get(&format!("{to}/progress")).await;
    assert!(
        running.contains(r#"hx-trigger="every 1s""#),
        "a live job is polled: {running}"
    );
    assert!(running.contains("Cancel job"));

    let cancel = format!("{to}/cancel");
    let response = browser
        .post(&cancel, Some(&app.address), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        !response.text().await.unwrap().contains("Cancel job"),
        "asked once"
    );
    let job = until_ended(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert!(job["done"].as_u64().unwrap() < 200, "stopped early: {job}");
    let audits = audit_rows(&app).await;
    let cancels: Vec<_> = audits.iter().filter(|a| a.action == "bulk.cancel").collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].via, "console");
    let again = browser
        .post(&cancel, Some(&app.address), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "already ended");
}

async fn bulk_jobs_are_for_admins_only(backend: Backend) {
    let app = operator_app(backend).await;
    seed_dead(&app, 2, now_ms() - 600_000).await;
    let browser = signed_in(&app).await;
    let (_, list) = browser.get("/console/events").await;
    assert!(list.contains("/console/events/replay"), "a steward replays one");
    assert!(!list.contains("/console/jobs"), "but gets no bulk form");
    let csrf = browser.csrf().await;
    let before = audit_rows(&app).await.len();
    let dry = browser
        .post(
            "/console/jobs",
            Some(&app.address),
            &[
                ("csrf", csrf.as_str()),
                ("action", "replay_dead"),
                ("dry_run", "1"),
            ],
        )
        .await;
    assert_eq!(dry.status(), StatusCode::FORBIDDEN);
    let start = browser
        .post(
            "/console/jobs",
            Some(&app.address),
            &[("csrf", csrf.as_str()), ("action", "replay_dead")],
        )
        .await;
    assert_eq!(start.status(), StatusCode::FORBIDDEN);
    assert_eq!(audit_rows(&app).await.len(), before);
    assert!(
        entity::bulk_jobs::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty(),
        "no job started"
    );
}
