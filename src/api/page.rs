//! Keyset paging shared by every list: a page of items and the cursor of the next one.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;

/// The largest page any list serves.
pub const MAX: u64 = 500;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Pass as `after` (or `before`, for newest-first lists) to get the next page; null on the last.
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    /// A page from rows fetched with `limit`: a full page has a next one.
    pub fn of<R>(rows: Vec<R>, limit: u64, id: impl Fn(&R) -> Uuid, out: impl Fn(R) -> T) -> Self {
        let next_after = (rows.len() as u64 == limit)
            .then(|| rows.last().map(&id))
            .flatten();
        Self {
            items: rows.into_iter().map(out).collect(),
            next_after,
        }
    }
}

/// Checks a requested page size (default 100).
pub fn limit(asked: Option<u64>) -> Result<u64, ApiError> {
    match asked.unwrap_or(100) {
        n @ 1..=MAX => Ok(n),
        _ => Err(ApiError::BadRequest(format!("limit must be 1-{MAX}"))),
    }
}
