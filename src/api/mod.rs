//! Operational HTTP endpoints beside the webhooks.

pub mod health;
pub mod metrics;
pub mod operator;
