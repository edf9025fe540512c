//! The console's conflict review over HTTP: both sides with their evidence, a preview that
//! writes nothing, then the decision (audited, CSRF-checked), and the queue moving on.

use entity::conflicts::ConflictStatus;
use reqwest::StatusCode;

use crate::{
    console::{Browser, audit_rows},
    helpers::{Backend, now_ms},
    operator::{OperatedApp, ana_between_two_anas, operator_app},
};

on_both_backends!(
    an_ambiguous_match_is_shown_beside_each_candidate_with_evidence_bars,
    a_link_preview_writes_nothing_and_confirming_it_links_the_record_with_one_audit_row,
    splitting_from_the_review_page_moves_the_record_to_a_client_of_its_own,
    a_decision_without_the_csrf_token_is_refused_and_changes_nothing,
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
