//! Identifier newtypes, so a client id is never confused with any other uuid.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The id of a golden client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(Uuid);

impl ClientId {
    /// A fresh, time-ordered id (UUIDv7 keeps index inserts local).
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an id read from the store.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The uuid, for the store.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of a project (a `projects` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProjectId(Uuid);

impl ProjectId {
    /// Wraps an id read from the store.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The uuid, for the store.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for ProjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
