//! Receiver errors and their HTTP statuses: the sender's retry behaviour depends on them.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use serde::Serialize;

use super::signature::SignatureError;
use crate::queue::QueueError;

/// Why a webhook was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// Missing, malformed, stale or wrong signature.
    #[error("signature rejected: {0}")]
    Signature(#[from] SignatureError),
    /// A ClickUp webhook id we hold no secret for.
    #[error("unknown webhook")]
    UnknownWebhook,
    /// No secret is configured for this source.
    #[error("{0} webhooks are not configured")]
    NotConfigured(&'static str),
    /// The body is over the configured limit.
    #[error("body larger than {limit} bytes")]
    TooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The body is not the JSON the sender documents.
    #[error("malformed body: {0}")]
    Malformed(String),
    /// The body did not arrive in time: a slow or stalled sender.
    #[error("body not received within {0:?}")]
    BodyTimeout(std::time::Duration),
    /// Too many webhook requests in flight; the sender retries.
    #[error("too many requests in flight")]
    Busy,
    /// The body could not be read off the connection.
    #[error("body could not be read: {0}")]
    Payload(String),
    /// The queue did not durably accept the events; the sender must retry.
    #[error("queue unavailable")]
    QueueUnavailable(#[from] QueueError),
    /// A verified event could not be encoded for the queue: our fault, so the sender retries.
    #[error("event could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The error body every endpoint answers with.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// Machine-readable reason.
    pub code: &'static str,
    /// Human-readable detail; empty of internals for 5xx.
    pub detail: String,
}

impl ReceiveError {
    /// Every value `code` returns, so `/metrics` can show each refusal at zero from start-up.
    pub const CODES: [&'static str; 10] = [
        "invalid_signature",
        "unknown_webhook",
        "source_not_configured",
        "body_too_large",
        "malformed_body",
        "unreadable_body",
        "body_timeout",
        "busy",
        "queue_unavailable",
        "internal_error",
    ];

    /// Machine-readable reason, as in the error body.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiveError::Signature(_) => "invalid_signature",
            ReceiveError::UnknownWebhook => "unknown_webhook",
            ReceiveError::NotConfigured(_) => "source_not_configured",
            ReceiveError::TooLarge { .. } => "body_too_large",
            ReceiveError::Malformed(_) => "malformed_body",
            ReceiveError::Payload(_) => "unreadable_body",
            ReceiveError::BodyTimeout(_) => "body_timeout",
            ReceiveError::Busy => "busy",
            ReceiveError::QueueUnavailable(_) => "queue_unavailable",
            ReceiveError::Encode(_) => "internal_error",
        }
    }
}

impl ResponseError for ReceiveError {
    fn status_code(&self) -> StatusCode {
        match self {
            ReceiveError::Signature(_) | ReceiveError::UnknownWebhook | ReceiveError::NotConfigured(_) => {
                StatusCode::UNAUTHORIZED
            }
            ReceiveError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ReceiveError::Malformed(_) | ReceiveError::Payload(_) => StatusCode::BAD_REQUEST,
            ReceiveError::QueueUnavailable(_) | ReceiveError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ReceiveError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ReceiveError::Encode(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = if status.is_server_error() {
            tracing::error!(error = ?self, "webhook not accepted");
            "temporarily unavailable; retry later".to_owned()
        } else {
            tracing::info!(error = %self, "webhook refused");
            self.to_string()
        };
        let mut response = HttpResponse::build(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(("Retry-After", "5"));
        }
        response.json(ErrorBody {
            code: self.code(),
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_code_is_listed_once_for_the_metrics() {
        let all = [
            ReceiveError::Signature(SignatureError::Mismatch),
            ReceiveError::UnknownWebhook,
            ReceiveError::NotConfigured("hubspot"),
            ReceiveError::TooLarge { limit: 1 },
            ReceiveError::Malformed(String::new()),
            ReceiveError::Payload(String::new()),
            ReceiveError::BodyTimeout(std::time::Duration::ZERO),
            ReceiveError::Busy,
            ReceiveError::QueueUnavailable(QueueError::Unavailable(String::new())),
            ReceiveError::Encode(serde_json::from_str::<u8>("x").expect_err("not a number")),
        ];
        let codes: Vec<&str> = all.iter().map(ReceiveError::code).collect();
        assert_eq!(codes, ReceiveError::CODES);
    }
}
