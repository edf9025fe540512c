//! Resolving conflicts in bulk from the console's conflicts list: the list's filter and a
//! resolution are counted first, then run as a job whose page shows its progress; each conflict
//! is resolved through the API's service functions with its own audit row (via=console). Only
//! admins see the form or may post it, and only with the session's CSRF token.

use std::time::Duration;

use entity::{bulk_jobs, conflicts::ConflictStatus, operators::Role};
use reqwest::StatusCode;
use sea_orm::EntityTrait;

use crate::{
    bulk::{admin_app, two_people_disagreeing_on_phone_and_city, until_ended},
    console::{Browser, audit_rows},
    helpers::{Backend, now_ms, spawn_app_with},
    operator::{OperatedApp, operator_app},
};

on_both_backends!(
    a_bulk_resolve_counts_the_lists_filter_first_and_the_job_resolves_exactly_that_many,
    a_bulk_resolve_that_does_not_fit_the_filter_is_refused_and_starts_nothing,
    bulk_resolve_is_for_admins_only_and_a_steward_or_viewer_is_refused_with_nothing_changed,
    a_bulk_resolve_without_the_csrf_token_or_from_another_origin_is_refused_with_nothing_changed,
);

async fn signed_in(app: &OperatedApp, token: &str) -> Browser {
    let mut browser = Browser::new(app);
    browser.sign_in_with_token(token).await;
    browser
}

/// The conflicts bulk form's fields, with the session's token unless `csrf` is `None`.
fn form<'a>(
    csrf: Option<&'a str>,
    field: &'a str,
    resolution: &'a str,
    dry: bool,
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("kind", ""), ("field", field), ("resolution", resolution)];
    form.extend(csrf.map(|c| ("csrf", c)));
    if dry {
        form.push(("dry_run", "1"));
    }
    form
}

/// The number a dry run's answer shows.
fn counted(body: &str) -> u64 {
    let marker = r#"data-count=""#;
    let start = body.find(marker).expect("a count") + marker.len();
    body[start..]
        .split('"')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

async fn open_on(app: &OperatedApp, field: &str) -> usize {
    app.conflicts()
        .await
        .iter()
        .filter(|c| c.status == ConflictStatus::Open && c.field.as_deref() == Some(field))
        .count()
}

async fn jobs(app: &OperatedApp) -> usize {
    bulk_jobs::Entity::find().all(&app.db).await.unwrap().len()
}

async fn a_bulk_resolve_counts_the_lists_filter_first_and_the_job_resolves_exactly_that_many(
    backend: Backend,
) {
    let app = admin_app(spawn_app_with(backend, |_| {}).await).await;
    two_people_disagreeing_on_phone_and_city(&app, now_ms() - 60_000).await;
    let (phones, cities) = (open_on(&app, "phone").await, open_on(&app, "city").await);
    assert!(
        phones > 0 && cities > 0,
        "{phones} phone and {cities} city conflicts"
    );
    let browser = signed_in(&app, &app.token).await;
    let (status, list) = browser.get("/console/conflicts?field=phone").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        list.matches(r#"<tr id="conflict-"#).count(),
        phones,
        "the filter lists phones only"
    );
    assert!(
        list.contains(r#"action="/console/conflicts/bulk""#),
        "an admin gets the bulk form"
    );
    assert!(
        list.contains(r#"<input type="hidden" name="field" value="phone">"#),
        "it carries the list's filter"
    );
    let csrf = browser.csrf().await;
    let audits = audit_rows(&app).await.len();

    let dry = browser
        .post(
            "/console/conflicts/bulk",
            Some(&app.address),
            &form(Some(&csrf), "phone", "keep_hubspot", true),
        )
        .await;
    assert_eq!(dry.status(), StatusCode::OK);
    let body = dry.text().await.unwrap();
    let count = counted(&body);
    assert_eq!(count as usize, phones, "{body}");
    assert!(body.contains("Start: "), "{body}");
    assert_eq!(audit_rows(&app).await.len(), audits, "a dry run changes nothing");
    assert_eq!(open_on(&app, "phone").await, phones);

    let started = browser
        .post(
            "/console/conflicts/bulk",
            Some(&app.address),
            &form(Some(&csrf), "phone", "keep_hubspot", false),
        )
        .await;
    assert_eq!(started.status(), StatusCode::OK);
    let to = started.headers()["HX-Redirect"].to_str().unwrap().to_owned();
    let (status, page) = browser.get(&to).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(r#"href="/console/conflicts">Open conflicts"#),
        "{page}"
    );
    let job = until_ended(
        &app,
        to.trim_start_matches("/console/jobs/"),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["done"].as_u64(),
            job["failed"].as_u64()
        ),
        (Some("finished"), Some(count), Some(0)),
        "{job}"
    );
    assert_eq!(job["request"]["filter"]["field"], "phone", "{job}");
    assert_eq!(
        open_on(&app, "phone").await,
        0,
        "the counted conflicts left the inbox"
    );
    assert_eq!(open_on(&app, "city").await, cities, "the others stay");
    let (_, left) = browser.get("/console/conflicts?field=phone").await;
    assert!(left.contains("Nothing open matches these filters"), "{left}");

    let rows = audit_rows(&app).await;
    let resolved: Vec<_> = rows.iter().filter(|a| a.action == "conflict.resolve").collect();
    assert_eq!(resolved.len() as u64, count, "one audit row per conflict");
    assert!(resolved.iter().all(|a| a.via == "console"));
    let starts: Vec<_> = rows.iter().filter(|a| a.action == "bulk.start").collect();
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].via, "console");
}

/// Some of a form's fields.
type Fields<'a> = &'a [(&'a str, &'a str)];

/// The status of a bulk form with these fields and the session's token.
async fn refusal(browser: &Browser, app: &OperatedApp, csrf: &str, fields: &[(&str, &str)]) -> StatusCode {
    let mut fields = fields.to_vec();
    fields.push(("csrf", csrf));
    browser
        .post("/console/conflicts/bulk", Some(&app.address), &fields)
        .await
        .status()
}

async fn a_bulk_resolve_that_does_not_fit_the_filter_is_refused_and_starts_nothing(backend: Backend) {
    let app = admin_app(spawn_app_with(backend, |_| {}).await).await;
    two_people_disagreeing_on_phone_and_city(&app, now_ms() - 60_000).await;
    let browser = signed_in(&app, &app.token).await;
    let csrf = browser.csrf().await;
    let cases: [(Fields, StatusCode, &str); 4] = [
        (
            &[("resolution", "not_a_match"), ("dry_run", "1")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a match names its kind",
        ),
        (
            &[("kind", "ambiguous_match"), ("resolution", "keep_hubspot")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "keep HubSpot resolves field mismatches only",
        ),
        (
            &[("resolution", "pin")],
            StatusCode::BAD_REQUEST,
            "one value is not pinned on many clients",
        ),
        (
            &[("field", "shoe_size"), ("resolution", "keep_hubspot")],
            StatusCode::BAD_REQUEST,
            "no such field",
        ),
    ];
    for (fields, expected, why) in cases {
        let status = refusal(&browser, &app, &csrf, fields).await;
        assert_eq!(status, expected, "{why}: {fields:?}");
    }
    let (status, _) = browser.get("/console/conflicts?field=shoe_size").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the list refuses it too");
    assert_eq!(jobs(&app).await, 0);
    assert!(audit_rows(&app).await.iter().all(|a| a.action != "bulk.start"));
}

async fn bulk_resolve_is_for_admins_only_and_a_steward_or_viewer_is_refused_with_nothing_changed(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    two_people_disagreeing_on_phone_and_city(&app, now_ms() - 60_000).await;
    let phones = open_on(&app, "phone").await;
    let viewer = app.add_operator("vera", Role::Viewer).await;
    let audits = audit_rows(&app).await.len();
    for token in [app.token.clone(), viewer] {
        let browser = signed_in(&app, &token).await;
        let (_, list) = browser.get("/console/conflicts").await;
        assert!(list.contains(r#"<tr id="conflict-"#), "the list is shown");
        assert!(!list.contains("/console/conflicts/bulk"), "but no bulk form");
        let csrf = browser.csrf().await;
        for dry in [true, false] {
            let response = browser
                .post(
                    "/console/conflicts/bulk",
                    Some(&app.address),
                    &form(Some(&csrf), "phone", "keep_hubspot", dry),
                )
                .await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
    }
    assert_eq!(open_on(&app, "phone").await, phones);
    assert_eq!(audit_rows(&app).await.len(), audits);
    assert_eq!(jobs(&app).await, 0, "no job started");
}

async fn a_bulk_resolve_without_the_csrf_token_or_from_another_origin_is_refused_with_nothing_changed(
    backend: Backend,
) {
    let app = admin_app(spawn_app_with(backend, |_| {}).await).await;
    two_people_disagreeing_on_phone_and_city(&app, now_ms() - 60_000).await;
    let phones = open_on(&app, "phone").await;
    let browser = signed_in(&app, &app.token).await;
    let csrf = browser.csrf().await;
    let audits = audit_rows(&app).await.len();
    let without = browser
        .post(
            "/console/conflicts/bulk",
            Some(&app.address),
            &form(None, "phone", "keep_hubspot", false),
        )
        .await;
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let stale = browser
        .post(
            "/console/conflicts/bulk",
            Some(&app.address),
            &form(Some("not-the-token"), "phone", "keep_hubspot", false),
        )
        .await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    let elsewhere = browser
        .post(
            "/console/conflicts/bulk",
            Some("https://evil.example"),
            &form(Some(&csrf), "phone", "keep_hubspot", false),
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);
    assert_eq!(open_on(&app, "phone").await, phones);
    assert_eq!(audit_rows(&app).await.len(), audits);
    assert_eq!(jobs(&app).await, 0);
}
