//! Webhook signatures: HubSpot v1/v2/v3 and ClickUp, verified over the raw request bytes with
//! constant-time comparison. Also the signing side, for `clientsync sign` and tests.

use std::borrow::Cow;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// A webhook signing secret; `Debug` never shows it.
#[derive(Clone)]
pub struct WebhookSecret(SecretString);

impl WebhookSecret {
    /// Wraps a secret read from the environment.
    pub fn new(raw: String) -> Self {
        Self(SecretString::from(raw))
    }

    /// The key bytes, for hashing only.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Signature bytes decoded from a header, ready for constant-time comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(Vec<u8>);

impl Signature {
    /// Decodes a hex signature (HubSpot v1/v2, ClickUp), either case.
    pub fn from_hex(s: &str) -> Result<Self, SignatureError> {
        hex::decode(s.trim())
            .map(Self)
            .map_err(|_| SignatureError::MalformedSignature)
    }

    /// Decodes a standard base64 signature (HubSpot v3).
    pub fn from_base64(s: &str) -> Result<Self, SignatureError> {
        BASE64
            .decode(s.trim())
            .map(Self)
            .map_err(|_| SignatureError::MalformedSignature)
    }

    /// Checks an HMAC-SHA256 over `parts` in constant time.
    fn verify_hmac(&self, secret: &WebhookSecret, parts: &[&[u8]]) -> bool {
        let Ok(mut mac) = HmacSha256::new_from_slice(secret.expose()) else {
            return false;
        };
        for part in parts {
            mac.update(part);
        }
        mac.verify_slice(&self.0).is_ok()
    }

    /// Checks a plain SHA-256 over `parts` in constant time.
    fn verify_sha256(&self, parts: &[&[u8]]) -> bool {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        let digest = hasher.finalize();
        self.0.len() == digest.len() && bool::from(digest.as_slice().ct_eq(&self.0))
    }
}

/// Why a signature was refused; never carries secrets or expected values.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    /// A required header is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// The signature header does not decode.
    #[error("signature is not validly encoded")]
    MalformedSignature,
    /// The v3 timestamp is not a number of milliseconds.
    #[error("timestamp is not a number of milliseconds")]
    MalformedTimestamp,
    /// The v3 timestamp is older than the accepted window (a replay, or a slow retry).
    #[error("timestamp is too old")]
    StaleTimestamp,
    /// The v3 timestamp is further ahead than clock skew explains.
    #[error("timestamp is in the future")]
    FutureTimestamp,
    /// `X-HubSpot-Signature-Version` names a version we do not know.
    #[error("unknown signature version `{0}`")]
    UnknownVersion(String),
    /// The signature does not match the request.
    #[error("signature does not match")]
    Mismatch,
    /// Only a v1/v2 signature came, and `hubspot.accept_legacy_signatures` is off: without a
    /// timestamp a captured request could be replayed forever.
    #[error("a v1/v2 signature without X-HubSpot-Signature-v3 is not accepted")]
    LegacyRefused,
}

impl SignatureError {
    /// Every value `reason` returns, so `/metrics` can show each at zero from start-up.
    pub const REASONS: [&'static str; 8] = [
        "missing_header",
        "malformed_signature",
        "malformed_timestamp",
        "stale_timestamp",
        "future_timestamp",
        "unknown_version",
        "mismatch",
        "legacy_refused",
    ];

    /// Stable name of the reason, for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            SignatureError::MissingHeader(_) => "missing_header",
            SignatureError::MalformedSignature => "malformed_signature",
            SignatureError::MalformedTimestamp => "malformed_timestamp",
            SignatureError::StaleTimestamp => "stale_timestamp",
            SignatureError::FutureTimestamp => "future_timestamp",
            SignatureError::UnknownVersion(_) => "unknown_version",
            SignatureError::Mismatch => "mismatch",
            SignatureError::LegacyRefused => "legacy_refused",
        }
    }
}

/// The HubSpot signature headers as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct HubSpotHeaders<'a> {
    /// `X-HubSpot-Signature-v3`.
    pub signature_v3: Option<&'a str>,
    /// `X-HubSpot-Request-Timestamp` (Unix ms, hashed verbatim).
    pub timestamp: Option<&'a str>,
    /// `X-HubSpot-Signature` (v1 or v2).
    pub signature: Option<&'a str>,
    /// `X-HubSpot-Signature-Version`.
    pub version: Option<&'a str>,
}

/// What HubSpot signed besides the headers.
#[derive(Debug, Clone, Copy)]
pub struct HubSpotRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The configured external URL (scheme and host, maybe a path prefix) HubSpot called.
    pub public_base_url: &'a str,
    /// Path and query exactly as received.
    pub path_and_query: &'a str,
    /// The raw body.
    pub body: &'a [u8],
}

/// Which signature version a request was accepted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubSpotVersion {
    /// SHA-256(secret ‖ body).
    V1,
    /// SHA-256(secret ‖ method ‖ uri ‖ body).
    V2,
    /// HMAC-SHA256(method ‖ uri ‖ body ‖ timestamp), with a replay window.
    V3,
}

/// Whether v1/v2 signatures, which carry no timestamp and so escape the replay window, count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// Only v3 is accepted (the default: the webhooks API sends v3 beside v1).
    Refused,
    /// v1/v2 are accepted when no v3 header is present (`hubspot.accept_legacy_signatures`).
    Accepted,
}

/// Verifies a HubSpot request: v3 when its headers are present, else v1/v2 by version header
/// when `legacy` allows them.
pub fn verify_hubspot(
    secret: &WebhookSecret,
    headers: &HubSpotHeaders<'_>,
    req: &HubSpotRequest<'_>,
    now_ms: i64,
    tolerance_ms: i64,
    legacy: Legacy,
) -> Result<HubSpotVersion, SignatureError> {
    let uri = signed_uri(req.public_base_url, req.path_and_query);
    let decoded = decode_hubspot_uri(&uri);
    let candidates: Vec<&str> = if decoded == uri {
        vec![&uri]
    } else {
        vec![&uri, &decoded]
    };
    if let Some(v3) = headers.signature_v3 {
        let timestamp = headers
            .timestamp
            .map(str::trim)
            .ok_or(SignatureError::MissingHeader("X-HubSpot-Request-Timestamp"))?;
        let ts: i64 = timestamp
            .parse()
            .map_err(|_| SignatureError::MalformedTimestamp)?;
        if ts < now_ms.saturating_sub(tolerance_ms) {
            return Err(SignatureError::StaleTimestamp);
        }
        if ts > now_ms.saturating_add(tolerance_ms) {
            return Err(SignatureError::FutureTimestamp);
        }
        let signature = Signature::from_base64(v3)?;
        let ok = candidates.iter().any(|uri| {
            signature.verify_hmac(
                secret,
                &[
                    req.method.as_bytes(),
                    uri.as_bytes(),
                    req.body,
                    timestamp.as_bytes(),
                ],
            )
        });
        return if ok {
            Ok(HubSpotVersion::V3)
        } else {
            Err(SignatureError::Mismatch)
        };
    }
    let legacy_signature = match (headers.signature, legacy) {
        (Some(signature), Legacy::Accepted) => signature,
        (Some(_), Legacy::Refused) => return Err(SignatureError::LegacyRefused),
        (None, _) => return Err(SignatureError::MissingHeader("X-HubSpot-Signature-v3")),
    };
    let signature = Signature::from_hex(legacy_signature)?;
    match headers.version.map(str::trim) {
        None | Some("v1") => {
            if signature.verify_sha256(&[secret.expose(), req.body]) {
                Ok(HubSpotVersion::V1)
            } else {
                Err(SignatureError::Mismatch)
            }
        }
        Some("v2") => {
            let ok = candidates.iter().any(|uri| {
                signature.verify_sha256(&[secret.expose(), req.method.as_bytes(), uri.as_bytes(), req.body])
            });
            if ok {
                Ok(HubSpotVersion::V2)
            } else {
                Err(SignatureError::Mismatch)
            }
        }
        Some(other) => Err(SignatureError::UnknownVersion(other.chars().take(16).collect())),
    }
}

/// Verifies a ClickUp request: hex HMAC-SHA256 of the raw body with that webhook's secret.
pub fn verify_clickup(
    secret: &WebhookSecret,
    signature_header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = signature_header.ok_or(SignatureError::MissingHeader("X-Signature"))?;
    if Signature::from_hex(header)?.verify_hmac(secret, &[body]) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The URI HubSpot signed: the configured base joined to the received path and query.
pub fn signed_uri(public_base_url: &str, path_and_query: &str) -> String {
    let base = public_base_url.trim_end_matches('/');
    if path_and_query.starts_with('/') {
        format!("{base}{path_and_query}")
    } else {
        format!("{base}/{path_and_query}")
    }
}

/// The 12 percent-escapes HubSpot's docs say to decode before hashing; nothing else is decoded.
const HUBSPOT_ESCAPES: [(&str, char); 12] = [
    ("3A", ':'),
    ("2F", '/'),
    ("3F", '?'),
    ("40", '@'),
    ("21", '!'),
    ("24", '$'),
    ("27", '\''),
    ("28", '('),
    ("29", ')'),
    ("2A", '*'),
    ("2C", ','),
    ("3B", ';'),
];

/// Applies HubSpot's documented URI decoding (the 12 escapes, hex in either case).
pub fn decode_hubspot_uri(uri: &str) -> Cow<'_, str> {
    if !uri.contains('%') {
        return Cow::Borrowed(uri);
    }
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let escape = rest.get(pos + 1..pos + 3);
        match escape.and_then(|hex| {
            HUBSPOT_ESCAPES
                .iter()
                .find(|(code, _)| code.eq_ignore_ascii_case(hex))
                .map(|(_, c)| *c)
        }) {
            Some(c) => {
                out.push(c);
                rest = &rest[pos + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[pos + 1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// HubSpot v1: lowercase hex SHA-256(secret ‖ body).
pub fn sign_hubspot_v1(secret: &WebhookSecret, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret.expose());
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// HubSpot v2: lowercase hex SHA-256(secret ‖ method ‖ uri ‖ body).
pub fn sign_hubspot_v2(secret: &WebhookSecret, method: &str, uri: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret.expose());
    hasher.update(method.as_bytes());
    hasher.update(uri.as_bytes());
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// HubSpot v3: base64 HMAC-SHA256(method ‖ uri ‖ body ‖ timestamp).
pub fn sign_hubspot_v3(
    secret: &WebhookSecret,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: &str,
) -> String {
    BASE64.encode(hmac(
        secret,
        &[method.as_bytes(), uri.as_bytes(), body, timestamp.as_bytes()],
    ))
}

/// ClickUp: lowercase hex HMAC-SHA256(body).
pub fn sign_clickup(secret: &WebhookSecret, body: &[u8]) -> String {
    hex::encode(hmac(secret, &[body]))
}

fn hmac(secret: &WebhookSecret, parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails; an empty tag would never verify anyway.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.expose()) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests;
