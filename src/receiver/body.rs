//! Reading the raw body with a size cap and a deadline: signatures are checked over these
//! exact bytes, and a sender that stalls mid-body must not pin its buffer forever.

use std::time::Duration;

use actix_web::{HttpRequest, http::header, web};
use futures_util::StreamExt;

use super::error::ReceiveError;

/// Reads the whole body, refusing (413) anything over `limit` before buffering it, and giving up
/// (408) when it has not all arrived within `deadline`.
pub async fn read_limited(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    deadline: Duration,
) -> Result<web::Bytes, ReceiveError> {
    tokio::time::timeout(deadline, read(req, payload, limit))
        .await
        .map_err(|_| ReceiveError::BodyTimeout(deadline))?
}

async fn read(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ReceiveError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ReceiveError::TooLarge { limit });
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(8 * 1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ReceiveError::Payload(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(ReceiveError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
