//! HubSpot v1/v2/v3 and ClickUp signature verification over arbitrary headers, method, URI,
//! body and clock: never panics, what the sender signs always verifies, and a signature over
//! other bytes never does.
//!
//! Input (so seeds can be written by hand from real requests): twelve lines, then the body.
//! Lines: secret, method, public base URL, path and query, X-HubSpot-Signature-v3,
//! X-HubSpot-Request-Timestamp, X-HubSpot-Signature, X-HubSpot-Signature-Version, X-Signature,
//! now (ms), tolerance (ms), `1` to accept legacy signatures. An empty header line is an absent
//! header.
#![no_main]

use std::borrow::Cow;

use clientsync::receiver::signature::{
    HubSpotHeaders, HubSpotRequest, HubSpotVersion, Legacy, WebhookSecret, decode_hubspot_uri, sign_clickup,
    sign_hubspot_v1, sign_hubspot_v2, sign_hubspot_v3, signed_uri, verify_clickup, verify_hubspot,
};
use libfuzzer_sys::fuzz_target;

const LINES: usize = 12;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(LINES + 1, |b| *b == b'\n');
    let mut lines: Vec<Cow<'_, str>> = Vec::with_capacity(LINES);
    for _ in 0..LINES {
        lines.push(String::from_utf8_lossy(parts.next().unwrap_or_default()));
    }
    let body = parts.next().unwrap_or_default();
    let header = |i: usize| Some(lines[i].as_ref()).filter(|s| !s.is_empty());
    let number = |i: usize| lines[i].trim().parse::<i64>().unwrap_or_default();
    let secret = WebhookSecret::new(lines[0].clone().into_owned());
    let (method, base, path) = (lines[1].as_ref(), lines[2].as_ref(), lines[3].as_ref());
    let (now_ms, tolerance_ms) = (number(9), number(10));
    let legacy = if lines[11].trim() == "1" {
        Legacy::Accepted
    } else {
        Legacy::Refused
    };
    let request = HubSpotRequest {
        method,
        public_base_url: base,
        path_and_query: path,
        body,
    };
    let headers = HubSpotHeaders {
        signature_v3: header(4),
        timestamp: header(5),
        signature: header(6),
        version: header(7),
    };
    // Arbitrary headers: any answer but a panic is fine.
    let _ = verify_hubspot(&secret, &headers, &request, now_ms, tolerance_ms, legacy);
    let _ = verify_clickup(&secret, header(8), body);
    let _ = decode_hubspot_uri(path);

    // What the sender signs verifies, for every version, whatever the bytes.
    let uri = signed_uri(base, path);
    let timestamp = now_ms.to_string();
    let tolerance = tolerance_ms.max(0);
    let v3 = sign_hubspot_v3(&secret, method, &uri, body, &timestamp);
    let signed = HubSpotHeaders {
        signature_v3: Some(&v3),
        timestamp: Some(&timestamp),
        ..HubSpotHeaders::default()
    };
    assert_eq!(
        verify_hubspot(&secret, &signed, &request, now_ms, tolerance, Legacy::Refused),
        Ok(HubSpotVersion::V3)
    );
    let v1 = sign_hubspot_v1(&secret, body);
    let signed = HubSpotHeaders {
        signature: Some(&v1),
        ..HubSpotHeaders::default()
    };
    assert_eq!(
        verify_hubspot(&secret, &signed, &request, now_ms, tolerance, Legacy::Accepted),
        Ok(HubSpotVersion::V1)
    );
    let v2 = sign_hubspot_v2(&secret, method, &uri, body);
    let signed = HubSpotHeaders {
        signature: Some(&v2),
        version: Some("v2"),
        ..HubSpotHeaders::default()
    };
    assert_eq!(
        verify_hubspot(&secret, &signed, &request, now_ms, tolerance, Legacy::Accepted),
        Ok(HubSpotVersion::V2)
    );
    let clickup = sign_clickup(&secret, body);
    assert_eq!(verify_clickup(&secret, Some(&clickup), body), Ok(()));
    let mut other = body.to_vec();
    other.push(b' ');
    assert!(verify_clickup(&secret, Some(&clickup), &other).is_err());
    let v3_other = HubSpotRequest {
        body: &other,
        ..request
    };
    let signed = HubSpotHeaders {
        signature_v3: Some(&v3),
        timestamp: Some(&timestamp),
        ..HubSpotHeaders::default()
    };
    assert!(verify_hubspot(&secret, &signed, &v3_other, now_ms, tolerance, Legacy::Refused).is_err());
});
