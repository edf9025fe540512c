//! Sign-in and sign-out. An operator signs in with name and password (`access::login`) or with
//! their personal API token (`access::authenticate`); failures count against the address in
//! the same guard as the API's, so the console is no faster way to guess.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::{
    assets,
    error::{ConsoleError, html, see_other},
    session::{Posted, address, removal_cookie, same_origin, session_cookie, states},
};
use crate::{
    access::{self, AccessError, sessions},
    api::auth::Viewer,
    domain::Via,
};

/// Mounts sign-in and sign-out.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login").get(form).post(sign_in))
        .route("/logout", web::post().to(sign_out));
}

#[derive(Template)]
#[template(path = "console/login/page.html")]
struct LoginPage {
    css: &'static str,
    icon: &'static str,
    message: Option<String>,
}

/// What the sign-in form sends: a name and password, or a token.
#[derive(Deserialize)]
struct SignIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
}

/// The logout form carries only its CSRF token.
#[derive(Deserialize)]
struct Nothing {}

fn login_page(status: StatusCode, message: Option<String>) -> HttpResponse {
    let page = LoginPage {
        css: assets::stylesheet(),
        icon: assets::icon(),
        message,
    };
    html(status, page.render())
}

async fn form() -> HttpResponse {
    login_page(StatusCode::OK, None)
}

async fn sign_in(req: HttpRequest, body: web::Form<SignIn>) -> Result<HttpResponse, ConsoleError> {
    let (api, console) = states(&req)?;
    if !same_origin(&req, &console) {
        return Err(ConsoleError::CsrfRefused("the request came from another origin"));
    }
    let ip = address(&req);
    if let Some(wait) = api.guard.blocked_for(ip) {
        return Err(ConsoleError::TooManyAttempts(wait));
    }
    let SignIn {
        name,
        password,
        token,
    } = body.into_inner();
    let found = if !token.trim().is_empty() {
        access::authenticate(
            &api.db,
            &SecretString::from(token.trim().to_owned()),
            Via::Console,
        )
        .await
    } else {
        access::login(&api.db, &name, &SecretString::from(password)).await
    };
    let actor = match found {
        Ok(actor) => actor,
        Err(AccessError::Unauthenticated) => {
            if let Some(wait) = api.guard.failed(ip) {
                tracing::warn!(%ip, "console: too many failed sign-ins; blocked for {wait} s");
                return Err(ConsoleError::TooManyAttempts(wait));
            }
            return Ok(login_page(
                StatusCode::UNAUTHORIZED,
                Some("That name and password (or token) did not match an active operator.".into()),
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let opened = sessions::open(&api.db, &actor, console.lifetime).await?;
    let mut response = see_other("/console/attention");
    response
        .add_cookie(&session_cookie(&console, &opened))
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    Ok(response)
}

async fn sign_out(req: HttpRequest, posted: Posted<Viewer, Nothing>) -> Result<HttpResponse, ConsoleError> {
    let (api, console) = states(&req)?;
    sessions::close(&api.db, &posted.session).await?;
    let mut response = see_other("/console/login");
    response
        .add_cookie(&removal_cookie(&console))
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    Ok(response)
}
