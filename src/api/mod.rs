//! Operational HTTP endpoints beside the webhooks.

pub mod health;
