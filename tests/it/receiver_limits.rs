//! What a sender cannot do: stall a body or its headers, crowd the receiver, send more than a
//! batch holds, use another method, or fall back to a signature without a replay window.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{
    Backend, PUBLIC_BASE_URL, TestApp, hubspot_headers, hubspot_property, hubspot_secret, now_ms, spawn_app,
    spawn_app_with,
};
use clientsync::receiver::signature;

const HUBSPOT: &str = "/webhooks/hubspot";

fn batch(n: usize) -> Vec<u8> {
    let events: Vec<Value> = (0..n)
        .map(|i| hubspot_property(i as i64 + 1, "email", &format!("c{i}@example.com"), now_ms()))
        .collect();
    serde_json::to_vec(&Value::Array(events)).unwrap()
}

/// Opens a raw connection and sends `head` (and nothing more).
async fn send_partial(app: &TestApp, head: &str) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}

/// What the server sends before closing, read within `limit`.
async fn answer_within(stream: &mut TcpStream, limit: Duration) -> String {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

const STALLED_BODY: &str = "POST /webhooks/hubspot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n[{\"portalId\":1";

#[tokio::test]
async fn a_body_that_stalls_gets_408_within_the_body_timeout() {
    let app = spawn_app_with(Backend::Embedded, |c| c.server.body_timeout_ms = 500).await;
    let started = Instant::now();
    let mut stream = send_partial(&app, STALLED_BODY).await;
    let answer = answer_within(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.queue_depth().await, 0);
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let app = spawn_app_with(Backend::Embedded, |c| c.server.client_request_timeout_ms = 500).await;
    let started = Instant::now();
    let mut stream = send_partial(&app, "POST /webhooks/hubspot HTTP/1.1\r\nHost: x\r\n").await;
    let answer = answer_within(&mut stream, Duration::from_secs(5)).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "408 or a closed connection: {answer:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// The first bytes the server answers on `stream`.
async fn first_answer(stream: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 2048];
    let n = stream.read(&mut buf).await.unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn requests_beyond_the_in_flight_cap_get_503_with_retry_after() {
    let app = spawn_app_with(Backend::Embedded, |c| {
        c.server.max_in_flight = 1;
        c.server.body_timeout_ms = 5_000;
    })
    .await;
    // Two stalled bodies for one place: whichever comes second is turned away at once.
    let mut first = send_partial(&app, STALLED_BODY).await;
    let mut second = send_partial(&app, STALLED_BODY).await;
    let answer = tokio::time::timeout(Duration::from_secs(3), async {
        tokio::select! {
            a = first_answer(&mut first) => a,
            b = first_answer(&mut second) => b,
        }
    })
    .await
    .expect("one of the two is answered before the body timeout");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after"), "{answer}");
    assert!(answer.contains("\"busy\""), "{answer}");
}

#[tokio::test]
async fn a_hubspot_batch_of_more_than_one_hundred_events_gets_400() {
    let app = spawn_app(Backend::Embedded).await;
    let body = batch(101);
    let headers = hubspot_headers(&body, HUBSPOT, now_ms());
    let response = app.post_raw(HUBSPOT, body, &headers).await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "malformed_body", "{body}");
    assert_eq!(app.queue_depth().await, 0);
    let body = batch(100);
    let headers = hubspot_headers(&body, HUBSPOT, now_ms());
    assert_eq!(app.post_raw(HUBSPOT, body, &headers).await.status().as_u16(), 200);
}

#[tokio::test]
async fn get_on_a_webhook_route_gets_405_naming_post() {
    let app = spawn_app(Backend::Embedded).await;
    for path in [HUBSPOT, "/webhooks/clickup", "/webhooks/clickup/some-id"] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{path}");
        assert_eq!(response.headers()["Allow"], "POST", "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed");
    }
}

#[tokio::test]
async fn a_v3_signature_over_a_url_with_a_trailing_slash_is_verified_as_received() {
    let app = spawn_app(Backend::Embedded).await;
    let body = batch(1);
    let path = "/webhooks/hubspot/";
    let headers = hubspot_headers(&body, path, now_ms());
    let response = app.post_raw(path, body, &headers).await;
    assert_eq!(response.status().as_u16(), 200, "{:?}", response.text().await);
}

/// HubSpot's webhooks-API headers with the v3 pair stripped: only the v1 signature is left.
fn v1_only(body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("X-HubSpot-Signature-Version".into(), "v1".into()),
        (
            "X-HubSpot-Signature".into(),
            signature::sign_hubspot_v1(&hubspot_secret(), body),
        ),
    ]
}

#[tokio::test]
async fn a_v1_signature_without_the_v3_headers_gets_401_by_default() {
    let app = spawn_app(Backend::Embedded).await;
    let body = batch(1);
    let response = app.post_raw(HUBSPOT, body.clone(), &v1_only(&body)).await;
    assert_eq!(response.status().as_u16(), 401);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["code"], "invalid_signature", "{answer}");
    assert_eq!(app.queue_depth().await, 0, "nothing queued");
}

#[tokio::test]
async fn a_v1_signature_is_accepted_when_legacy_signatures_are_turned_on() {
    let app = spawn_app_with(Backend::Embedded, |c| c.hubspot.accept_legacy_signatures = true).await;
    let body = batch(1);
    let response = app.post_raw(HUBSPOT, body.clone(), &v1_only(&body)).await;
    assert_eq!(response.status().as_u16(), 200);
    let v2 = signature::sign_hubspot_v2(
        &hubspot_secret(),
        "POST",
        &format!("{PUBLIC_BASE_URL}{HUBSPOT}"),
        &body,
    );
    let headers = vec![
        ("X-HubSpot-Signature-Version".to_owned(), "v2".to_owned()),
        ("X-HubSpot-Signature".to_owned(), v2),
    ];
    assert_eq!(app.post_raw(HUBSPOT, body, &headers).await.status().as_u16(), 200);
}
