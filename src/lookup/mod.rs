//! The read side of the operator API and CLI: client search, the client view and timeline,
//! conflict detail and the dashboard counters. Handlers and CLI commands call these functions
//! and show what they return, as JSON or a table; nothing here writes.

pub mod client;
pub mod conflict;
pub mod imports;
pub mod rank;
pub mod search;
pub mod stats;
pub mod timeline;
pub mod words;

use crate::store::StoreError;

/// Why a lookup could not answer.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The query cannot be read (empty, not an email when searching by email, a bad cursor).
    #[error("{0}")]
    BadQuery(String),
    /// No such client or conflict.
    #[error("{0} not found")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for LookupError {
    fn from(e: sea_orm::DbErr) -> Self {
        LookupError::Store(StoreError::Db(e))
    }
}
