use proptest::prelude::*;
use serde_json::Value;

use super::*;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/signature-vectors.json"
));

fn secret(s: &str) -> WebhookSecret {
    WebhookSecret::new(s.to_owned())
}

/// Splits `https://host/path?q` into (`https://host`, `/path?q`).
fn split_uri(uri: &str) -> (&str, &str) {
    let after_scheme = uri.find("://").map_or(0, |i| i + 3);
    let path_start = uri[after_scheme..]
        .find('/')
        .map_or(uri.len(), |i| after_scheme + i);
    (&uri[..path_start], &uri[path_start..])
}

fn vectors() -> Vec<Value> {
    serde_json::from_str(VECTORS).expect("vectors parse")
}

#[test]
fn every_official_vector_is_reproduced_by_signing_and_accepted_by_verifying() {
    let all = vectors();
    assert!(all.len() >= 9, "the fixture holds every vector");
    for v in all {
        let id = v["id"].as_str().unwrap();
        let key = secret(v["secret"].as_str().unwrap());
        let body = v["body"].as_str().unwrap().as_bytes();
        let expected = v["expected"].as_str().unwrap();
        let method = v["method"].as_str().unwrap_or("POST");
        let uri = v["uri"]
            .as_str()
            .unwrap_or("https://example.com/webhooks/hubspot");
        let (base, path) = split_uri(uri);
        let request = HubSpotRequest {
            method,
            public_base_url: base,
            path_and_query: path,
            body,
        };
        match v["version"].as_str().unwrap() {
            "v1" => {
                assert_eq!(sign_hubspot_v1(&key, body), expected, "{id}");
                let headers = HubSpotHeaders {
                    signature: Some(expected),
                    version: Some("v1"),
                    ..Default::default()
                };
                assert_eq!(
                    verify_hubspot(&key, &headers, &request, 0, 300_000, Legacy::Accepted),
                    Ok(HubSpotVersion::V1),
                    "{id}"
                );
            }
            "v2" => {
                assert_eq!(sign_hubspot_v2(&key, method, uri, body), expected, "{id}");
                let headers = HubSpotHeaders {
                    signature: Some(expected),
                    version: Some("v2"),
                    ..Default::default()
                };
                assert_eq!(
                    verify_hubspot(&key, &headers, &request, 0, 300_000, Legacy::Accepted),
                    Ok(HubSpotVersion::V2),
                    "{id}"
                );
            }
            "v3" => {
                let ts = v["timestamp"].as_str().unwrap();
                assert_eq!(sign_hubspot_v3(&key, method, uri, body, ts), expected, "{id}");
                let headers = HubSpotHeaders {
                    signature_v3: Some(expected),
                    timestamp: Some(ts),
                    ..Default::default()
                };
                let now: i64 = ts.parse().unwrap();
                assert_eq!(
                    verify_hubspot(&key, &headers, &request, now, 300_000, Legacy::Accepted),
                    Ok(HubSpotVersion::V3),
                    "{id}"
                );
            }
            "clickup" => {
                assert_eq!(sign_clickup(&key, body), expected, "{id}");
                assert_eq!(verify_clickup(&key, Some(expected), body), Ok(()), "{id}");
            }
            other => panic!("unknown vector version {other}"),
        }
    }
}

#[test]
fn v1_and_v2_vectors_are_refused_unless_legacy_signatures_are_accepted() {
    for v in vectors() {
        let version = v["version"].as_str().unwrap();
        if version != "v1" && version != "v2" {
            continue;
        }
        let key = secret(v["secret"].as_str().unwrap());
        let uri = v["uri"]
            .as_str()
            .unwrap_or("https://example.com/webhooks/hubspot");
        let (base, path) = split_uri(uri);
        let request = HubSpotRequest {
            method: v["method"].as_str().unwrap_or("POST"),
            public_base_url: base,
            path_and_query: path,
            body: v["body"].as_str().unwrap().as_bytes(),
        };
        let headers = HubSpotHeaders {
            signature: v["expected"].as_str(),
            version: Some(version),
            ..Default::default()
        };
        assert_eq!(
            verify_hubspot(&key, &headers, &request, 0, 300_000, Legacy::Refused),
            Err(SignatureError::LegacyRefused),
            "{}",
            v["id"]
        );
        assert!(verify_hubspot(&key, &headers, &request, 0, 300_000, Legacy::Accepted).is_ok());
    }
}

fn v3_case(now: i64, ts: i64) -> Result<HubSpotVersion, SignatureError> {
    let key = secret("s");
    let ts = ts.to_string();
    let sig = sign_hubspot_v3(&key, "POST", "https://h.example.com/webhooks/hubspot", b"[]", &ts);
    let headers = HubSpotHeaders {
        signature_v3: Some(&sig),
        timestamp: Some(&ts),
        ..Default::default()
    };
    let request = HubSpotRequest {
        method: "POST",
        public_base_url: "https://h.example.com",
        path_and_query: "/webhooks/hubspot",
        body: b"[]",
    };
    verify_hubspot(&key, &headers, &request, now, 300_000, Legacy::Accepted)
}

#[test]
fn v3_signature_is_rejected_when_timestamp_is_older_than_five_minutes() {
    assert_eq!(
        v3_case(1_000_000_000, 1_000_000_000 - 300_001),
        Err(SignatureError::StaleTimestamp)
    );
    assert_eq!(
        v3_case(1_000_000_000, 1_000_000_000 - 299_000),
        Ok(HubSpotVersion::V3)
    );
}

#[test]
fn v3_signature_is_rejected_when_timestamp_is_more_than_five_minutes_ahead() {
    assert_eq!(
        v3_case(1_000_000_000, 1_000_000_000 + 300_001),
        Err(SignatureError::FutureTimestamp)
    );
    assert_eq!(
        v3_case(1_000_000_000, 1_000_000_000 + 299_000),
        Ok(HubSpotVersion::V3)
    );
}

#[test]
fn v3_without_timestamp_or_with_a_malformed_one_is_rejected() {
    let request = HubSpotRequest {
        method: "POST",
        public_base_url: "https://h",
        path_and_query: "/",
        body: b"",
    };
    let headers = HubSpotHeaders {
        signature_v3: Some("AAAA"),
        ..Default::default()
    };
    assert_eq!(
        verify_hubspot(&secret("s"), &headers, &request, 0, 1, Legacy::Accepted),
        Err(SignatureError::MissingHeader("X-HubSpot-Request-Timestamp"))
    );
    let headers = HubSpotHeaders {
        signature_v3: Some("AAAA"),
        timestamp: Some("1.5e12"),
        ..Default::default()
    };
    assert_eq!(
        verify_hubspot(&secret("s"), &headers, &request, 0, 1, Legacy::Accepted),
        Err(SignatureError::MalformedTimestamp)
    );
}

#[test]
fn a_request_without_any_signature_header_is_rejected() {
    let request = HubSpotRequest {
        method: "POST",
        public_base_url: "https://h",
        path_and_query: "/",
        body: b"",
    };
    assert_eq!(
        verify_hubspot(
            &secret("s"),
            &HubSpotHeaders::default(),
            &request,
            0,
            1,
            Legacy::Accepted
        ),
        Err(SignatureError::MissingHeader("X-HubSpot-Signature-v3"))
    );
    assert_eq!(
        verify_clickup(&secret("s"), None, b""),
        Err(SignatureError::MissingHeader("X-Signature"))
    );
}

#[test]
fn malformed_encodings_are_rejected_as_malformed() {
    assert_eq!(
        verify_clickup(&secret("s"), Some("zz-not-hex"), b"{}"),
        Err(SignatureError::MalformedSignature)
    );
    assert_eq!(
        Signature::from_base64("***"),
        Err(SignatureError::MalformedSignature)
    );
}

#[test]
fn an_unknown_legacy_version_is_named() {
    let request = HubSpotRequest {
        method: "POST",
        public_base_url: "https://h",
        path_and_query: "/",
        body: b"",
    };
    let headers = HubSpotHeaders {
        signature: Some("00"),
        version: Some("v9"),
        ..Default::default()
    };
    assert_eq!(
        verify_hubspot(&secret("s"), &headers, &request, 0, 1, Legacy::Accepted),
        Err(SignatureError::UnknownVersion("v9".into()))
    );
}

#[test]
fn tampering_with_body_uri_method_or_timestamp_is_a_mismatch() {
    let key = secret("s");
    let ts = "1700000000000";
    let sig = sign_hubspot_v3(&key, "POST", "https://h.example.com/webhooks/hubspot", b"[1]", ts);
    let base = HubSpotRequest {
        method: "POST",
        public_base_url: "https://h.example.com",
        path_and_query: "/webhooks/hubspot",
        body: b"[1]",
    };
    let headers = HubSpotHeaders {
        signature_v3: Some(&sig),
        timestamp: Some(ts),
        ..Default::default()
    };
    let now = 1_700_000_000_000;
    assert!(verify_hubspot(&key, &headers, &base, now, 300_000, Legacy::Accepted).is_ok());
    for request in [
        HubSpotRequest { body: b"[2]", ..base },
        HubSpotRequest {
            path_and_query: "/webhooks/hubspot?x=1",
            ..base
        },
        HubSpotRequest {
            method: "PUT",
            ..base
        },
        HubSpotRequest {
            public_base_url: "http://h.example.com",
            ..base
        },
    ] {
        assert_eq!(
            verify_hubspot(&key, &headers, &request, now, 300_000, Legacy::Accepted),
            Err(SignatureError::Mismatch)
        );
    }
    let other_ts = HubSpotHeaders {
        timestamp: Some("1700000000001"),
        ..headers
    };
    assert_eq!(
        verify_hubspot(&key, &other_ts, &base, now, 300_000, Legacy::Accepted),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_hubspot(&secret("t"), &headers, &base, now, 300_000, Legacy::Accepted),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_signature_over_the_documented_decoding_is_accepted_and_over_any_other_is_not() {
    let key = secret("s");
    let ts = "1700000000000";
    let now = 1_700_000_000_000;
    let request = HubSpotRequest {
        method: "POST",
        public_base_url: "https://h.example.com",
        path_and_query: "/hook?a=b%3Ac%20d",
        body: b"",
    };
    let check = |signed_uri: &str| {
        let sig = sign_hubspot_v3(&key, "POST", signed_uri, b"", ts);
        let headers = HubSpotHeaders {
            signature_v3: Some(&sig),
            timestamp: Some(ts),
            ..Default::default()
        };
        verify_hubspot(&key, &headers, &request, now, 300_000, Legacy::Accepted)
    };
    assert!(
        check("https://h.example.com/hook?a=b%3Ac%20d").is_ok(),
        "as received"
    );
    assert!(
        check("https://h.example.com/hook?a=b:c%20d").is_ok(),
        "documented decoding"
    );
    assert_eq!(
        check("https://h.example.com/hook?a=b:c d"),
        Err(SignatureError::Mismatch),
        "%20 is not decoded"
    );
}

#[test]
fn decoding_touches_only_the_twelve_escapes_in_either_case() {
    assert_eq!(
        decode_hubspot_uri("a%3a%2F%3F%40%21%24%27%28%29%2A%2c%3Bz"),
        "a:/?@!$'()*,;z"
    );
    assert_eq!(decode_hubspot_uri("a%20b%2B%"), "a%20b%2B%");
}

#[test]
fn the_signed_uri_joins_base_and_path_with_one_slash() {
    assert_eq!(
        signed_uri("https://h.example.com/", "/webhooks/hubspot"),
        "https://h.example.com/webhooks/hubspot"
    );
    assert_eq!(
        signed_uri("https://h.example.com", "/webhooks/hubspot?x=1"),
        "https://h.example.com/webhooks/hubspot?x=1"
    );
}

#[test]
fn debug_output_of_a_secret_is_redacted() {
    let shown = format!("{:?}", secret("super-secret-value"));
    assert!(!shown.contains("super-secret-value"));
}

proptest! {
    #[test]
    fn clickup_signatures_round_trip_for_any_body(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let key = secret("k");
        let sig = sign_clickup(&key, &body);
        prop_assert_eq!(verify_clickup(&key, Some(&sig), &body), Ok(()));
    }

    #[test]
    fn any_flipped_bit_in_a_signature_is_rejected(body in proptest::collection::vec(any::<u8>(), 0..256), bit in 0usize..256) {
        let key = secret("k");
        let mut raw = hex::decode(sign_clickup(&key, &body)).unwrap();
        raw[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(verify_clickup(&key, Some(&hex::encode(raw)), &body), Err(SignatureError::Mismatch));
    }

    #[test]
    fn v3_signatures_round_trip_for_any_body(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let key = secret("k");
        let sig = sign_hubspot_v3(&key, "POST", "https://h/x", &body, "5");
        let headers = HubSpotHeaders { signature_v3: Some(&sig), timestamp: Some("5"), ..Default::default() };
        let request = HubSpotRequest { method: "POST", public_base_url: "https://h", path_and_query: "/x", body: &body };
        prop_assert_eq!(verify_hubspot(&key, &headers, &request, 5, 1, Legacy::Accepted), Ok(HubSpotVersion::V3));
    }
}

#[test]
fn every_signature_reason_is_listed_once_for_the_metrics() {
    let all = [
        SignatureError::MissingHeader("X-Signature"),
        SignatureError::MalformedSignature,
        SignatureError::MalformedTimestamp,
        SignatureError::StaleTimestamp,
        SignatureError::FutureTimestamp,
        SignatureError::UnknownVersion("v9".into()),
        SignatureError::Mismatch,
        SignatureError::LegacyRefused,
    ];
    let reasons: Vec<&str> = all.iter().map(SignatureError::reason).collect();
    assert_eq!(reasons, SignatureError::REASONS);
}
