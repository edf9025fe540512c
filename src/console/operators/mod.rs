//! Operators (admins only): list, add (the new token is shown once, on the answer to the
//! POST, never again), revoke and set role, all through `access`, which audits each change.

use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{
    error::{ConsoleError, html, see_other},
    layout::{Chrome, Nav, when},
    session::{Posted, Visit},
};
use crate::{
    access::{self, sessions::Session},
    api::{ApiState, auth::Admin},
    domain::actor::{parse_role, role_name},
};

/// Mounts the page and its forms.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/operators").get(list).post(add))
        .route("/operators/{name}/revoke", web::post().to(revoke))
        .route("/operators/{name}/role", web::post().to(set_role));
}

struct Row {
    name: String,
    role: &'static str,
    has_password: bool,
    created: String,
    created_by: String,
    revoked: Option<String>,
}

struct Issued {
    operator: String,
    token: String,
}

#[derive(Template)]
#[template(path = "console/operators/page.html")]
struct Page {
    chrome: Chrome,
    rows: Vec<Row>,
    issued: Option<Issued>,
}

#[derive(Deserialize)]
struct NewOperator {
    name: String,
    role: String,
}

#[derive(Deserialize)]
struct NewRole {
    role: String,
}

#[derive(Deserialize)]
struct Nothing {}

async fn render(
    state: &ApiState,
    session: &Session,
    issued: Option<Issued>,
) -> Result<HttpResponse, ConsoleError> {
    let rows = access::list(&state.db, &session.actor)
        .await?
        .into_iter()
        .map(|o| Row {
            role: role_name(o.role),
            has_password: o.password_hash.is_some(),
            created: when(Some(o.created_at)),
            revoked: o.revoked_at.map(|t| when(Some(t))),
            name: o.name,
            created_by: o.created_by,
        })
        .collect();
    let page = Page {
        chrome: Chrome::new(session, Nav::Operators),
        rows,
        issued,
    };
    Ok(html(StatusCode::OK, page.render()))
}

async fn list(visit: Visit<Admin>, state: web::Data<ApiState>) -> Result<HttpResponse, ConsoleError> {
    render(&state, &visit.session, None).await
}

async fn add(
    posted: Posted<Admin, NewOperator>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ConsoleError> {
    let role = parse_role(&posted.form.role).map_err(|e| ConsoleError::Unprocessable(e.to_string()))?;
    let (operator, issued) = access::add(&state.db, &posted.session.actor, &posted.form.name, role).await?;
    let issued = Issued {
        operator: operator.name,
        token: issued.secret.expose_secret().to_owned(),
    };
    render(&state, &posted.session, Some(issued)).await
}

async fn revoke(
    posted: Posted<Admin, Nothing>,
    state: web::Data<ApiState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    access::revoke(&state.db, &posted.session.actor, &name).await?;
    Ok(see_other("/console/operators"))
}

async fn set_role(
    posted: Posted<Admin, NewRole>,
    state: web::Data<ApiState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let role = parse_role(&posted.form.role).map_err(|e| ConsoleError::Unprocessable(e.to_string()))?;
    access::set_role(&state.db, &posted.session.actor, &name, role).await?;
    Ok(see_other("/console/operators"))
}
