//! HTTP endpoints beside the webhooks: health, metrics, and the operator API v1 (one file per
//! resource), whose errors are all `{code, detail}` and whose callers are always identified.

pub mod audit;
pub mod auth;
pub mod bulk;
pub mod clients;
pub mod conflicts;
pub mod dead_events;
pub mod error;
pub mod health;
pub mod imports;
pub mod metrics;
pub mod openapi;
pub mod operators;
pub mod outbox;
pub mod page;
pub mod records;
pub mod reports;
pub mod stats;

use actix_web::{middleware::ErrorHandlers, web};
use sea_orm::DatabaseConnection;
use secrecy::SecretString;

use std::sync::Arc;

use crate::{queue::EventQueue, reconcile::Matching};

/// What the operator routes share.
pub struct ApiState {
    /// The store.
    pub db: DatabaseConnection,
    /// Matching settings, for normalizing pinned values and re-deriving clients.
    pub matching: Matching,
    /// Counts failed authentications per address.
    pub guard: auth::Guard,
    /// The bootstrap token, if set: it may only create the first admin.
    pub bootstrap: Option<SecretString>,
    /// The work queue, for replaying dead events through it.
    pub queue: Arc<dyn EventQueue>,
    /// Runs bulk jobs in the background.
    pub bulk: crate::bulk::Runner,
}

/// Mounts `/api/v1` and its docs.
pub fn v1(cfg: &mut web::ServiceConfig) {
    // NormalizePath trims the trailing slash, so `/api/v1/docs/` arrives here too.
    cfg.route("/api/v1/docs", web::get().to(openapi::docs_home))
        .service(openapi::docs())
        .service(
            web::scope("/api/v1")
                .configure(error::extractors)
                .wrap(ErrorHandlers::new().default_handler(error::json_body))
                .configure(conflicts::routes)
                .configure(clients::routes)
                .configure(operators::routes)
                .configure(audit::routes)
                .configure(records::routes)
                .configure(dead_events::routes)
                .configure(outbox::routes)
                .configure(bulk::routes)
                .configure(stats::routes)
                .configure(reports::routes)
                .configure(imports::routes)
                .default_service(web::to(error::not_found)),
        );
}
