//! `clientsync sign` prints headers our own receiver accepts.

use std::process::Command;

use clientsync::receiver::signature::{
    HubSpotHeaders, HubSpotRequest, Legacy, verify_clickup, verify_hubspot,
};

use crate::helpers::{CLICKUP_SECRET, HUBSPOT_SECRET, clickup_secret, hubspot_secret, now_ms};

fn sign(source: &str, secret: &str, url: &str, body: &[u8]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, body).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .args([
            "sign",
            "--source",
            source,
            "--secret-env",
            "SIGN_TEST_SECRET",
            "--url",
            url,
        ])
        .arg(&file)
        .env("SIGN_TEST_SECRET", secret)
        .output()
        .expect("binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (name, value) = l.split_once(": ").expect("Name: value");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn signed_hubspot_headers_verify() {
    let body = br#"[{"objectId":1}]"#;
    let headers = sign(
        "hubspot",
        HUBSPOT_SECRET,
        "https://hooks.example.com/webhooks/hubspot",
        body,
    );
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let h = HubSpotHeaders {
        signature_v3: get("X-HubSpot-Signature-v3"),
        timestamp: get("X-HubSpot-Request-Timestamp"),
        signature: get("X-HubSpot-Signature"),
        version: get("X-HubSpot-Signature-Version"),
    };
    let request = HubSpotRequest {
        method: "POST",
        public_base_url: "https://hooks.example.com",
        path_and_query: "/webhooks/hubspot",
        body,
    };
    assert!(
        verify_hubspot(
            &hubspot_secret(),
            &h,
            &request,
            now_ms(),
            300_000,
            Legacy::Refused
        )
        .is_ok()
    );
}

#[test]
fn signed_clickup_header_verifies() {
    let body = br#"{"event":"taskCreated"}"#;
    let headers = sign(
        "clickup",
        CLICKUP_SECRET,
        "https://hooks.example.com/webhooks/clickup",
        body,
    );
    assert_eq!(headers[0].0, "X-Signature");
    assert!(verify_clickup(&clickup_secret(), Some(&headers[0].1), body).is_ok());
}

#[test]
fn sign_without_the_secret_variable_fails_clearly() {
    let output = Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .args([
            "sign",
            "--source",
            "clickup",
            "--secret-env",
            "SURELY_UNSET_VAR_X",
            "--url",
            "http://x",
            "/dev/null",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("SURELY_UNSET_VAR_X"));
}
