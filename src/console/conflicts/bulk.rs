//! Resolving every open conflict the list's filter (kind, field) selects, one way, for admins:
//! keep HubSpot's values or accept ClickUp's on field mismatches, "not a match" on ambiguous
//! matches or key collisions. Pinning one value over many clients and linking many records to
//! one client stay one conflict at a time (the API refuses a bulk link too). This file only
//! reads the form into a plan; counting first, starting, the job's progress and cancel are
//! `console::jobs`, shared with the events pages, and each conflict goes through
//! `steward::resolve` with its own audit row.

use actix_web::{HttpRequest, HttpResponse, web};
use entity::conflicts::ConflictKind;
use serde::Deserialize;
use serde_json::json;

use super::Chosen;
use crate::{
    api::{ApiState, auth::Admin},
    bulk::{BulkAction, BulkFilter, BulkPlan},
    console::{
        error::ConsoleError,
        jobs::{self, Bulk},
        layout::Nav,
        session::Posted,
    },
    steward::Resolution,
};

/// Mounts the dry run / start.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/conflicts/bulk", web::post().to(start));
}

/// The bulk form: the list's filter, the resolution, and whether only to count.
#[derive(Debug, Deserialize)]
struct Request {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    field: String,
    resolution: String,
    #[serde(default)]
    dry_run: String,
}

impl Request {
    fn resolution(&self) -> Result<(Resolution, &'static str), ConsoleError> {
        match self.resolution.as_str() {
            "keep_hubspot" => Ok((Resolution::KeepHubspot, "keep HubSpot's value")),
            "accept_clickup" => Ok((Resolution::AcceptClickup, "accept ClickUp's value")),
            "not_a_match" => Ok((Resolution::NotAMatch, "not a match")),
            other => Err(ConsoleError::BadRequest(format!(
                "`{other}` does not resolve many conflicts at once (keep_hubspot, accept_clickup, not_a_match)"
            ))),
        }
    }

    fn bulk(&self) -> Result<Bulk, ConsoleError> {
        let chosen = Chosen::parse(Some(&self.kind), Some(&self.field))?;
        let (resolution, label) = self.resolution()?;
        let filter = BulkFilter {
            kind: chosen.kind,
            field: chosen.field.map(|f| f.as_str().to_owned()),
            ..BulkFilter::default()
        };
        // Refuses a resolution that fits none of the kind; names the kind when only one fits.
        let plan = BulkPlan::new(BulkAction::Resolve(resolution), filter)?;
        let kind = chosen.kind.unwrap_or(ConflictKind::FieldMismatch);
        let on = chosen
            .field
            .map(|f| format!(" on {}", f.as_str()))
            .unwrap_or_default();
        Ok(Bulk {
            plan,
            recorded: json!({
                "action": "resolve",
                "filter": {
                    "kind": crate::store::conflicts::kind_name(kind),
                    "field": chosen.field.map(|f| f.as_str()),
                },
                "resolution": { "action": self.resolution },
                "dry_run": false,
            }),
            noun: format!("open {}{on} ({label})", plural(kind)),
            post_to: "/console/conflicts/bulk",
            fields: vec![
                ("kind", self.kind.clone()),
                ("field", self.field.clone()),
                ("resolution", self.resolution.clone()),
            ],
            nav: Nav::Conflicts,
        })
    }
}

/// What many conflicts of a kind are called.
fn plural(kind: ConflictKind) -> &'static str {
    match kind {
        ConflictKind::FieldMismatch => "field mismatches",
        ConflictKind::AmbiguousMatch => "ambiguous matches",
        ConflictKind::KeyCollision => "key collisions",
    }
}

async fn start(
    req: HttpRequest,
    posted: Posted<Admin, Request>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ConsoleError> {
    let bulk = posted.form.bulk()?;
    let dry_run = !posted.form.dry_run.trim().is_empty();
    jobs::answer(&req, &posted.session, &state, bulk, dry_run).await
}
