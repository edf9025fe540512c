//! The events pages' bulk form (admin): replay the dead events a filter selects, or retry the
//! failed write-backs it selects. It only turns the form into a plan; counting, starting and the
//! job's page are `console::jobs`, shared with the conflicts list.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{DeadForm, given, instant};
use crate::{
    api::{ApiState, auth::Admin},
    bulk::{BulkAction, BulkFilter, BulkPlan},
    console::{
        error::ConsoleError,
        jobs::{self, Bulk},
        layout::Nav,
        session::Posted,
    },
};

/// Mounts the dry run / start.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/jobs", web::post().to(start));
}

/// A bulk request from a form: the action, its filter, and whether only to count.
#[derive(Debug, Deserialize)]
struct Request {
    action: String,
    #[serde(flatten)]
    filter: DeadForm,
    #[serde(default)]
    dry_run: String,
}

impl Request {
    fn plan(&self) -> Result<BulkPlan, ConsoleError> {
        let action = match self.action.as_str() {
            "replay_dead" => BulkAction::ReplayDead,
            "retry_writebacks" => BulkAction::RetryWritebacks,
            other => return Err(ConsoleError::BadRequest(format!("unknown bulk action `{other}`"))),
        };
        let f = &self.filter;
        // Checks the source and times as the list does.
        f.filter(None, 0)?;
        let filter = BulkFilter {
            source: given(&f.source),
            event_type: given(&f.event_type),
            since: instant(&f.since)?,
            until: instant(&f.until)?,
            reason: given(&f.reason),
            external_id: given(&f.external_id),
            ..BulkFilter::default()
        };
        Ok(BulkPlan::new(action, filter)?)
    }

    /// The request as the job row keeps it, in the API's shape.
    fn recorded(&self) -> serde_json::Value {
        let f = &self.filter;
        json!({
            "action": self.action,
            "filter": {
                "source": given(&f.source),
                "type": given(&f.event_type),
                "since": instant(&f.since).ok().flatten(),
                "until": instant(&f.until).ok().flatten(),
                "reason": given(&f.reason),
                "external_id": given(&f.external_id),
            },
            "dry_run": false,
        })
    }

    fn noun(&self) -> &'static str {
        match self.action.as_str() {
            "retry_writebacks" => "failed write-backs",
            _ => "dead events",
        }
    }

    /// The form's fields, to post again when starting.
    fn fields(&self) -> Vec<(&'static str, String)> {
        let f = &self.filter;
        vec![
            ("action", self.action.clone()),
            ("source", f.source.clone()),
            ("type", f.event_type.clone()),
            ("since", f.since.clone()),
            ("until", f.until.clone()),
            ("reason", f.reason.clone()),
            ("external_id", f.external_id.clone()),
        ]
    }
}

async fn start(
    req: HttpRequest,
    posted: Posted<Admin, Request>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ConsoleError> {
    let form = &posted.form;
    let bulk = Bulk {
        plan: form.plan()?,
        recorded: form.recorded(),
        noun: form.noun().to_owned(),
        post_to: "/console/jobs",
        fields: form.fields(),
        nav: Nav::Events,
    };
    jobs::answer(
        &req,
        &posted.session,
        &state,
        bulk,
        given(&form.dry_run).is_some(),
    )
    .await
}
