//! Bad input gets the right status and nothing is queued or stored.

use clientsync::receiver::signature;
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{
    Backend, CLICKUP_WEBHOOK, PUBLIC_BASE_URL, TestApp, clickup_secret, hubspot_headers, hubspot_property,
    hubspot_secret, now_ms, spawn_app, spawn_app_with,
};

const HUBSPOT: &str = "/webhooks/hubspot";
const CLICKUP: &str = "/webhooks/clickup";

fn batch() -> Vec<u8> {
    serde_json::to_vec(&json!([hubspot_property(1, "email", "a@example.com", now_ms())])).unwrap()
}

async fn assert_nothing_queued_or_stored(app: &TestApp) {
    assert_eq!(app.queue_depth().await, 0, "nothing queued");
    assert!(app.drain_worker().await.is_empty(), "nothing to process");
    assert_eq!(app.inbox_count().await, 0, "nothing stored");
}

async fn assert_error(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status().as_u16(), status);
    let body: serde_json::Value = response.json().await.expect("json error body");
    assert_eq!(body["code"], code, "{body}");
    let text = body.to_string();
    assert!(!text.contains("test-hubspot-client-secret") && !text.contains("test-clickup-webhook-secret"));
}

#[tokio::test]
async fn hubspot_webhook_gets_401_when_signature_is_wrong() {
    let app = spawn_app(Backend::Embedded).await;
    let body = batch();
    let mut headers = hubspot_headers(&body, HUBSPOT, now_ms());
    headers[0].1 = signature::sign_hubspot_v3(
        &hubspot_secret(),
        "POST",
        "https://hooks.example.com/other",
        &body,
        &headers[1].1,
    );
    assert_error(
        app.post_raw(HUBSPOT, body, &headers).await,
        401,
        "invalid_signature",
    )
    .await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn hubspot_webhook_gets_401_when_signature_is_missing() {
    let app = spawn_app(Backend::Embedded).await;
    assert_error(
        app.post_raw(HUBSPOT, batch(), &[]).await,
        401,
        "invalid_signature",
    )
    .await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn hubspot_webhook_gets_401_when_timestamp_is_stale() {
    let app = spawn_app(Backend::Embedded).await;
    let body = batch();
    let headers = hubspot_headers(&body, HUBSPOT, now_ms() - 6 * 60 * 1000);
    assert_error(
        app.post_raw(HUBSPOT, body, &headers).await,
        401,
        "invalid_signature",
    )
    .await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn hubspot_webhook_gets_401_when_timestamp_is_far_in_the_future() {
    let app = spawn_app(Backend::Embedded).await;
    let body = batch();
    let headers = hubspot_headers(&body, HUBSPOT, now_ms() + 6 * 60 * 1000);
    assert_error(
        app.post_raw(HUBSPOT, body, &headers).await,
        401,
        "invalid_signature",
    )
    .await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn hubspot_signature_over_the_pods_own_host_is_refused() {
    let app = spawn_app(Backend::Embedded).await;
    let body = batch();
    let ts = now_ms().to_string();
    let own_host_uri = format!("{}{HUBSPOT}", app.address);
    let headers = vec![
        (
            "X-HubSpot-Signature-v3".to_owned(),
            signature::sign_hubspot_v3(&hubspot_secret(), "POST", &own_host_uri, &body, &ts),
        ),
        ("X-HubSpot-Request-Timestamp".to_owned(), ts),
    ];
    assert_error(
        app.post_raw(HUBSPOT, body, &headers).await,
        401,
        "invalid_signature",
    )
    .await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn hubspot_signature_over_the_decoded_uri_is_accepted() {
    let app = spawn_app(Backend::Embedded).await;
    let body = batch();
    let ts = now_ms().to_string();
    let path = "/webhooks/hubspot?tenant=acme%3Aeu";
    let decoded = format!("{PUBLIC_BASE_URL}/webhooks/hubspot?tenant=acme:eu");
    let headers = vec![
        (
            "X-HubSpot-Signature-v3".to_owned(),
            signature::sign_hubspot_v3(&hubspot_secret(), "POST", &decoded, &body, &ts),
        ),
        ("X-HubSpot-Request-Timestamp".to_owned(), ts),
    ];
    assert_eq!(app.post_raw(path, body, &headers).await.status(), 200);
    assert_eq!(app.drain_worker().await.len(), 1);
}

#[tokio::test]
async fn hubspot_malformed_json_with_a_good_signature_gets_400() {
    let app = spawn_app(Backend::Embedded).await;
    let body = b"[{\"objectId\": 1,".to_vec();
    let headers = hubspot_headers(&body, HUBSPOT, now_ms());
    assert_error(app.post_raw(HUBSPOT, body, &headers).await, 400, "malformed_body").await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn hubspot_batch_of_the_wrong_shape_gets_400_and_no_event_of_it_is_queued() {
    let app = spawn_app(Backend::Embedded).await;
    let good = hubspot_property(1, "email", "a@example.com", now_ms());
    let body = serde_json::to_vec(&json!([good, {"subscriptionType": "contact.creation"}])).unwrap();
    let headers = hubspot_headers(&body, HUBSPOT, now_ms());
    assert_error(app.post_raw(HUBSPOT, body, &headers).await, 400, "malformed_body").await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let app = spawn_app_with(Backend::Embedded, |c| c.server.max_body_bytes = 2048).await;
    let events: Vec<_> = (0..40)
        .map(|i| hubspot_property(i, "email", "a@example.com", now_ms()))
        .collect();
    let body = serde_json::to_vec(&events).unwrap();
    assert!(body.len() > 2048);
    let headers = hubspot_headers(&body, HUBSPOT, now_ms());
    assert_error(app.post_raw(HUBSPOT, body, &headers).await, 413, "body_too_large").await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn clickup_webhook_gets_401_when_signature_is_wrong() {
    let app = spawn_app(Backend::Embedded).await;
    let body = serde_json::to_vec(&json!({"event":"taskDeleted","task_id":"t","webhook_id":CLICKUP_WEBHOOK}))
        .unwrap();
    let wrong = signature::sign_clickup(&signature::WebhookSecret::new("other".into()), &body);
    assert_error(
        app.post_raw(CLICKUP, body, &[("X-Signature".into(), wrong)])
            .await,
        401,
        "invalid_signature",
    )
    .await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn clickup_webhook_gets_401_for_an_unknown_webhook_id() {
    let app = spawn_app(Backend::Embedded).await;
    let body =
        serde_json::to_vec(&json!({"event":"taskDeleted","task_id":"t","webhook_id":"not-registered"}))
            .unwrap();
    let sig = signature::sign_clickup(&clickup_secret(), &body);
    assert_error(
        app.post_raw(CLICKUP, body, &[("X-Signature".into(), sig)]).await,
        401,
        "unknown_webhook",
    )
    .await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn clickup_malformed_json_on_the_per_webhook_path_gets_400() {
    let app = spawn_app(Backend::Embedded).await;
    let body = b"{\"event\": ".to_vec();
    let sig = signature::sign_clickup(&clickup_secret(), &body);
    let path = format!("{CLICKUP}/{CLICKUP_WEBHOOK}");
    assert_error(
        app.post_raw(&path, body, &[("X-Signature".into(), sig)]).await,
        400,
        "malformed_body",
    )
    .await;
    assert_nothing_queued_or_stored(&app).await;
}

#[tokio::test]
async fn a_broker_that_cannot_be_reached_gets_503_and_nothing_is_stored() {
    let app = spawn_app_with(Backend::Embedded, |c| {
        c.queue.amqp_url = Some(SecretString::from("amqp://guest:guest@127.0.0.1:1/%2f"));
    })
    .await;
    let body = batch();
    let headers = hubspot_headers(&body, HUBSPOT, now_ms());
    let response = app.post_raw(HUBSPOT, body, &headers).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 503, "queue_unavailable").await;
    assert_eq!(app.inbox_count().await, 0);
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
}
