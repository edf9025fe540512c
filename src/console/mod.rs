//! The operator console at `/console`: server-rendered pages (askama templates, one folder per
//! page under `templates/console/`) with vendored htmx for partial updates, for people who
//! would rather look than read JSON. It stands on the same service layer as the API (`access`,
//! `steward`), so a role or an audit row means the same thing in both. Sign-in opens a
//! server-side session (`access::sessions`); every POST passes an Origin check and carries the
//! session's CSRF token; every answer carries a strict Content-Security-Policy (no inline
//! script or style, no framing).

pub mod assets;
pub mod attention;
pub mod audit;
pub mod clients;
pub mod conflicts;
pub mod error;
pub mod events;
pub mod imports;
pub mod jobs;
pub mod layout;
pub mod login;
pub mod operators;
pub mod reports;
pub mod review;
pub mod session;

use actix_web::{HttpResponse, dev::Service, http::header, middleware::DefaultHeaders, web};

use crate::{access::sessions::Lifetime, config::Config};
use error::ConsoleError;

/// The console's own settings, beside the operator API's state it shares.
pub struct ConsoleState {
    /// How long sessions last.
    pub lifetime: Lifetime,
    /// Whether cookies are marked Secure (the public URL is https).
    pub secure: bool,
    /// `scheme://host[:port]` of `server.public_base_url`, an origin POSTs may come from.
    pub public_origin: String,
}

impl ConsoleState {
    /// The console settings a configuration gives.
    pub fn from_config(config: &Config) -> Self {
        let base = config.server.public_base_url.trim_end_matches('/');
        let origin_end = base
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| base[start..].find('/').map(|end| start + end))
            .unwrap_or(base.len());
        Self {
            lifetime: config.console.lifetime(),
            secure: base.starts_with("https://"),
            public_origin: base[..origin_end].to_owned(),
        }
    }
}

/// The Content-Security-Policy of every console answer: only our own files, no inline script
/// or style, no plugins, never inside a frame, forms only to ourselves.
pub const CSP: &str =
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// Mounts `/console`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap_fn(|req, service| {
                let htmx = error::is_htmx(req.request());
                let answer = service.call(req);
                async move {
                    let res = answer.await?;
                    let fragment = htmx
                        .then(|| res.response().error())
                        .flatten()
                        .and_then(|e| e.as_error::<ConsoleError>())
                        .map(ConsoleError::for_htmx);
                    Ok(match fragment {
                        Some(fragment) => res.into_response(fragment.map_into_boxed_body()),
                        None => res.map_into_boxed_body(),
                    })
                }
            })
            // Outside the htmx answer above, so error fragments carry the headers too.
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, CSP))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::REFERRER_POLICY, "same-origin"))
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    .add(("Cross-Origin-Opener-Policy", "same-origin")),
            )
            .app_data(web::PayloadConfig::new(64 * 1024))
            .app_data(
                web::FormConfig::default()
                    .limit(16 * 1024)
                    .error_handler(|e, _| ConsoleError::BadRequest(format!("form: {e}")).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| ConsoleError::BadRequest(format!("query: {e}")).into()),
            )
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| ConsoleError::BadRequest(format!("path: {e}")).into()),
            )
            .route("", web::get().to(home))
            .configure(assets::routes)
            .configure(login::routes)
            .configure(attention::routes)
            .configure(conflicts::routes)
            .configure(clients::routes)
            .configure(review::routes)
            .configure(events::routes)
            .configure(jobs::routes)
            .configure(operators::routes)
            .configure(audit::routes)
            .configure(reports::routes)
            .configure(imports::routes)
            .default_service(web::to(error::not_found)),
    );
}

/// `/console` itself opens the inbox of work.
async fn home() -> HttpResponse {
    error::see_other("/console/attention")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_origin_is_the_base_url_without_its_path() {
        let mut config = Config::defaults().unwrap();
        config.server.public_base_url = "https://sync.example.com/hooks/".into();
        let state = ConsoleState::from_config(&config);
        assert_eq!(state.public_origin, "https://sync.example.com");
        assert!(state.secure);
        config.server.public_base_url = "http://localhost:8080".into();
        let state = ConsoleState::from_config(&config);
        assert_eq!(state.public_origin, "http://localhost:8080");
        assert!(!state.secure);
    }
}
