//! The console's conflict review over HTTP: both sides with their evidence, a preview that
//! writes nothing, then the decision (audited, CSRF-checked), and the queue moving on.

use entity::conflicts::ConflictStatus;
use reqwest::StatusCode;

use crate::{
    console::{Browser, audit_rows},
    helpers::{Backend, now_ms},
    operator::{OperatedApp, ana_between_two_anas, operator_app, phones_disagree},
};

on_both_backends!(
    an_ambiguous_match_is_shown_beside_each_candidate_with_evidence_bars,
    a_link_preview_writes_nothing_and_confirming_it_links_the_record_with_one_audit_row,
    splitting_from_the_review_page_moves_the_record_to_a_client_of_its_own,
    a_decision_without_the_csrf_token_is_refused_and_changes_nothing,
    a_field_mismatch_shows_hubspot_clickup_and_golden_side_by_side_with_the_rule_that_won,
    a_pinned_value_is_previewed_as_the_golden_client_then_confirmed_with_one_audit_row,
    a_pin_that_is_not_a_valid_value_is_refused_in_its_preview_and_on_confirm,
);

/// The ambiguous match of `ana_between_two_anas`: its id and its candidates' client ids.
async fn ambiguous(app: &OperatedApp) -> (String, Vec<String>) {
    let open = ana_between_two_anas(app, now_ms() - 60_000).await;
    let candidates = open["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .filter_map(|c| c["client_id"].as_str().map(str::to_owned))
        .collect();
    (open["id"].as_str().expect("id").to_owned(), candidates)
}

async fn signed_in(app: &OperatedApp) -> Browser {
    let mut browser = Browser::new(app);
    browser.sign_in_with_token(&app.token).await;
    browser
}

async fn task_client(app: &OperatedApp) -> Option<uuid::Uuid> {
    app.source_records()
        .await
        .into_iter()
        .find(|r| r.external_id == "task:t9")
        .and_then(|r| r.client_id)
}

async fn an_ambiguous_match_is_shown_beside_each_candidate_with_evidence_bars(backend: Backend) {
    let app = operator_app(backend).await;
    let (id, candidates) = ambiguous(&app).await;
    let browser = signed_in(&app).await;

    let (status, page) = browser.get(&format!("/console/review/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("clickup/task:t9"), "the record's side");
    for candidate in &candidates {
        assert!(
            page.contains(&format!(r#"id="side-{candidate}""#)),
            "{candidate} beside it"
        );
    }
    assert!(
        page.matches(r#"<svg class="bar""#).count() >= 2,
        "a bar per field"
    );
    assert!(
        page.contains(r#"class="for""#),
        "the shared phone is evidence for"
    );
    assert!(
        page.contains(r#"data-key="l""#)
            && page.contains(r#"data-key="n""#)
            && page.contains(r#"data-key="s""#)
    );
    assert!(
        page.contains("/console/assets/keys-"),
        "the shortcuts are loaded as a file"
    );
    assert!(!page.contains("<script>"), "no inline script under the CSP");
}

async fn a_link_preview_writes_nothing_and_confirming_it_links_the_record_with_one_audit_row(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let (id, candidates) = ambiguous(&app).await;
    let chosen = candidates[1].clone();
    let browser = signed_in(&app).await;
    let audits = audit_rows(&app).await.len();
    let before = task_client(&app).await;

    let (status, preview) = browser
        .get(&format!(
            "/console/review/{id}/preview?action=link&client_id={chosen}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(preview.contains(&format!("joins client {chosen}")), "{preview}");
    assert!(preview.contains(r#"name="action" value="link""#), "{preview}");
    assert_eq!(task_client(&app).await, before, "a preview moves nothing");
    assert_eq!(audit_rows(&app).await.len(), audits, "and audits nothing");

    let csrf = browser.csrf().await;
    let form = [
        ("csrf", csrf.as_str()),
        ("action", "link"),
        ("client_id", chosen.as_str()),
    ];
    let response = browser
        .post(&format!("/console/review/{id}/decide"), Some(&app.address), &form)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[reqwest::header::LOCATION],
        "/console/conflicts?kind=ambiguous_match",
        "the queue is empty, so the list is shown"
    );
    assert_eq!(task_client(&app).await.map(|c| c.to_string()), Some(chosen));
    let conflict = app
        .conflicts()
        .await
        .into_iter()
        .find(|c| c.id.to_string() == id)
        .unwrap();
    assert_eq!(conflict.status, ConflictStatus::Resolved);
    let rows = audit_rows(&app).await;
    assert_eq!(rows.len(), audits + 1);
    assert!(
        rows.iter()
            .any(|r| r.action == "conflict.resolve" && r.via == "console")
    );
}

async fn splitting_from_the_review_page_moves_the_record_to_a_client_of_its_own(backend: Backend) {
    let app = operator_app(backend).await;
    let (id, candidates) = ambiguous(&app).await;
    let browser = signed_in(&app).await;
    let (status, preview) = browser
        .get(&format!("/console/review/{id}/preview?action=split"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(preview.contains("A new client, made for the record"), "{preview}");
    assert!(
        preview.contains("Ana Romero") || preview.contains("911000111"),
        "{preview}"
    );

    let csrf = browser.csrf().await;
    let form = [("csrf", csrf.as_str()), ("action", "split")];
    let response = browser
        .post(&format!("/console/review/{id}/decide"), Some(&app.address), &form)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let own = task_client(&app).await.expect("placed");
    assert!(!candidates.contains(&own.to_string()), "on neither candidate");
    assert!(audit_rows(&app).await.iter().any(|r| r.action == "record.move"));
}

async fn a_decision_without_the_csrf_token_is_refused_and_changes_nothing(backend: Backend) {
    let app = operator_app(backend).await;
    let (id, _) = ambiguous(&app).await;
    let browser = signed_in(&app).await;
    let audits = audit_rows(&app).await.len();
    let response = browser
        .post(
            &format!("/console/review/{id}/decide"),
            Some(&app.address),
            &[("action", "not_a_match")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(audit_rows(&app).await.len(), audits);
    let open = app.open_conflicts("ambiguous_match").await;
    assert_eq!(open.len(), 1, "still open");
}

/// The one field mismatch of `phones_disagree`: its id.
async fn phone_mismatch(app: &OperatedApp) -> String {
    phones_disagree(app, now_ms() - 60_000).await;
    let open = app.open_conflicts("field_mismatch").await;
    assert_eq!(open.len(), 1, "{open:?}");
    open[0]["id"].as_str().expect("id").to_owned()
}

/// The rest of the table row that starts with `opening`.
fn cells<'a>(html: &'a str, opening: &str) -> Option<&'a str> {
    html.split(opening)
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
}

/// The value of the hidden field `name` in a form.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    html[start..].split('"').next().map(str::to_owned)
}

async fn a_field_mismatch_shows_hubspot_clickup_and_golden_side_by_side_with_the_rule_that_won(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let id = phone_mismatch(&app).await;
    let client = app.clients().await.pop().expect("one client");
    let golden_phone = client.phone.clone().expect("a golden phone");
    let browser = signed_in(&app).await;

    let (status, page) = browser.get(&format!("/console/review/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let row = cells(&page, r#"<tr id="golden-phone" class="disputed">"#).expect("the disputed phone row");
    assert!(row.contains(&golden_phone), "the golden value: {row}");
    assert!(row.contains("hubspot/contact:1"), "the record that set it: {row}");
    assert!(row.contains("HubSpot wins over ClickUp"), "the rule: {row}");
    let email = cells(&page, r#"<tr id="golden-email">"#).expect("the other fields too");
    assert!(email.contains("eva@example.com"));
    assert!(
        page.contains(r#"data-key="h""#)
            && page.contains(r#"data-key="c""#)
            && page.contains(r#"data-key="p""#)
    );

    let (status, keep) = browser
        .get(&format!("/console/review/{id}/preview?action=keep_hubspot"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        keep.contains("The golden client") && keep.contains("No golden value changes"),
        "{keep}"
    );
}

async fn a_pinned_value_is_previewed_as_the_golden_client_then_confirmed_with_one_audit_row(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let id = phone_mismatch(&app).await;
    let before = app.clients().await.pop().expect("one client").phone;
    let browser = signed_in(&app).await;
    let audits = audit_rows(&app).await.len();

    let (status, preview) = browser
        .get(&format!(
            "/console/review/{id}/preview?action=pin&value=%2B34%20699%20000%20999"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let pinned = hidden(&preview, "value").expect("Confirm carries the value to pin");
    assert_eq!(
        pinned.chars().filter(char::is_ascii_digit).collect::<String>(),
        "34699000999"
    );
    assert!(
        !pinned.contains(' '),
        "normalized as a source value would be: {pinned}"
    );
    let change = cells(&preview, r#"<th scope="row">phone</th>"#).expect("the golden client's phone changes");
    let before_phone = before.clone().expect("a phone before");
    assert!(
        change.contains(&before_phone) && change.contains(&pinned) && change.contains("pinned"),
        "now, after, from: {change}"
    );
    assert_eq!(
        app.clients().await.pop().unwrap().phone,
        before,
        "a preview pins nothing"
    );
    assert_eq!(audit_rows(&app).await.len(), audits, "and audits nothing");

    let csrf = browser.csrf().await;
    let form = [
        ("csrf", csrf.as_str()),
        ("action", "pin"),
        ("value", pinned.as_str()),
    ];
    let response = browser
        .post(&format!("/console/review/{id}/decide"), Some(&app.address), &form)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.clients().await.pop().unwrap().phone, Some(pinned.clone()));
    assert!(app.open_conflicts("field_mismatch").await.is_empty());
    let rows = audit_rows(&app).await;
    assert_eq!(rows.len(), audits + 1);
    let resolved = rows
        .iter()
        .find(|r| r.action == "conflict.resolve")
        .expect("audited");
    assert_eq!(
        (
            resolved.via.as_str(),
            resolved.after.as_ref().unwrap()["action"].as_str()
        ),
        ("console", Some("pin"))
    );

    let (_, page) = browser.get(&format!("/console/review/{id}")).await;
    let row = cells(&page, r#"<tr id="golden-phone" class="disputed">"#).expect("the phone row");
    assert!(
        row.contains(&pinned) && row.contains("pinned by an operator"),
        "{row}"
    );
}

async fn a_pin_that_is_not_a_valid_value_is_refused_in_its_preview_and_on_confirm(backend: Backend) {
    let app = operator_app(backend).await;
    let id = phone_mismatch(&app).await;
    let before = app.clients().await.pop().expect("one client").phone;
    let browser = signed_in(&app).await;
    let audits = audit_rows(&app).await.len();
    let (status, body) = browser
        .get(&format!(
            "/console/review/{id}/preview?action=pin&value=call%20me"
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("not a valid phone"), "{body}");
    let (status, _) = browser
        .get(&format!("/console/review/{id}/preview?action=pin"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a pin names its value");

    let csrf = browser.csrf().await;
    for value in ["call me", "  "] {
        let form = [("csrf", csrf.as_str()), ("action", "pin"), ("value", value)];
        let response = browser
            .post(&format!("/console/review/{id}/decide"), Some(&app.address), &form)
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{value:?}");
    }
    assert_eq!(app.clients().await.pop().unwrap().phone, before);
    assert_eq!(app.open_conflicts("field_mismatch").await.len(), 1, "still open");
    assert_eq!(audit_rows(&app).await.len(), audits);
}
