//! Who is at the console: the session behind the cookie, checked against the role a page
//! needs before its handler runs. A POST passes three checks first, in this order: a live
//! session, an `Origin` that is ours, and this session's CSRF token (form field `csrf`, or the
//! `X-CSRF-Token` header htmx sends); only then is the role checked and the form read.

use std::{marker::PhantomData, net::IpAddr};

use actix_web::{
    FromRequest, HttpRequest,
    cookie::{Cookie, SameSite, time},
    dev::Payload,
    http::header,
    web,
};
use futures_util::future::LocalBoxFuture;
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use super::{ConsoleState, error::ConsoleError};
use crate::{
    access::{
        self,
        sessions::{self, Opened, Session},
    },
    api::{
        ApiState,
        auth::{Needs, client_ip},
    },
};

/// The cookie's name; over https it takes the `__Host-` prefix, which browsers accept only
/// when Secure, host-only and for path `/`, so a sibling subdomain cannot plant one.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-clientsync_console"
    } else {
        "clientsync_console"
    }
}

/// The Set-Cookie for a new session: HttpOnly, SameSite=Strict, Secure over https.
pub fn session_cookie(console: &ConsoleState, opened: &Opened) -> Cookie<'static> {
    use secrecy::ExposeSecret;
    let max_age = console.lifetime.absolute.as_secs();
    Cookie::build(
        cookie_name(console.secure),
        opened.secret.expose_secret().to_owned(),
    )
    .path("/")
    .http_only(true)
    .same_site(SameSite::Strict)
    .secure(console.secure)
    .max_age(time::Duration::seconds(
        i64::try_from(max_age).unwrap_or(i64::MAX),
    ))
    .finish()
}

/// The Set-Cookie that removes the session cookie (logout).
pub fn removal_cookie(console: &ConsoleState) -> Cookie<'static> {
    let mut cookie = Cookie::build(cookie_name(console.secure), "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(console.secure)
        .finish();
    cookie.make_removal();
    cookie
}

/// The operator API state and console settings of a request.
pub fn states(req: &HttpRequest) -> Result<(web::Data<ApiState>, web::Data<ConsoleState>), ConsoleError> {
    let api = req.app_data::<web::Data<ApiState>>().cloned();
    let console = req.app_data::<web::Data<ConsoleState>>().cloned();
    api.zip(console)
        .ok_or_else(|| ConsoleError::Internal("console state missing".into()))
}

/// A signed-in operator whose role covers `R`, for pages (GET).
pub struct Visit<R: Needs> {
    /// The live session.
    pub session: Session,
    role: PhantomData<R>,
}

impl<R: Needs> FromRequest for Visit<R> {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = states(req).map(|states| (states, presented(req)));
        Box::pin(async move {
            let ((api, console), secret) = found?;
            let session = resume(&api, &console, secret).await?;
            access::require(&session.actor, R::ROLE)?;
            Ok(Self {
                session,
                role: PhantomData,
            })
        })
    }
}

/// A signed-in operator's form (POST), past the Origin and CSRF checks, whose role covers `R`.
pub struct Posted<R: Needs, T> {
    /// The live session.
    pub session: Session,
    /// The form's fields.
    pub form: T,
    role: PhantomData<R>,
}

impl<R: Needs, T: DeserializeOwned + 'static> FromRequest for Posted<R, T> {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let found = states(req).map(|states| (states, presented(req)));
        let origin = found
            .as_ref()
            .map(|(states, _)| same_origin(req, &states.1))
            .unwrap_or(false);
        let header_token = req
            .headers()
            .get("X-CSRF-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let ((api, console), secret) = found?;
            let session = resume(&api, &console, secret).await?;
            if !origin {
                return Err(ConsoleError::CsrfRefused("the request came from another origin"));
            }
            let body = body
                .await
                .map_err(|e| ConsoleError::BadRequest(format!("form: {e}")))?;
            let token = header_token.or_else(|| field(&body, "csrf"));
            if !token.is_some_and(|t| session.csrf_matches(&t)) {
                return Err(ConsoleError::CsrfRefused("the form's token is missing or stale"));
            }
            access::require(&session.actor, R::ROLE)?;
            let form = serde_urlencoded::from_bytes(&body)
                .map_err(|e| ConsoleError::BadRequest(format!("form: {e}")))?;
            Ok(Self {
                session,
                form,
                role: PhantomData,
            })
        })
    }
}

/// Whether a POST comes from a page of ours: its `Origin` is the configured public origin or
/// the origin the browser addressed (`Host`). A missing or `null` Origin is refused; browsers
/// send it on every POST.
pub fn same_origin(req: &HttpRequest, console: &ConsoleState) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin.eq_ignore_ascii_case(&console.public_origin) {
        return true;
    }
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    let addressed = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((addressed, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// The client address failed sign-ins are counted against.
pub fn address(req: &HttpRequest) -> IpAddr {
    client_ip(req)
}

fn presented(req: &HttpRequest) -> Option<SecretString> {
    let names = [cookie_name(true), cookie_name(false)];
    names
        .iter()
        .find_map(|name| req.cookie(name))
        .map(|c| SecretString::from(c.value().to_owned()))
}

async fn resume(
    api: &ApiState,
    console: &ConsoleState,
    secret: Option<SecretString>,
) -> Result<Session, ConsoleError> {
    let secret = secret.ok_or(ConsoleError::SignInFirst)?;
    Ok(sessions::resume(&api.db, &secret, console.lifetime).await?)
}

/// One field of a urlencoded body.
pub fn field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn console() -> ConsoleState {
        ConsoleState {
            lifetime: sessions::Lifetime {
                idle: std::time::Duration::from_secs(60),
                absolute: std::time::Duration::from_secs(3600),
            },
            secure: true,
            public_origin: "https://sync.example.com".into(),
        }
    }

    #[test]
    fn a_post_is_ours_only_when_its_origin_is_the_public_one_or_the_host_it_addressed() {
        let ours = TestRequest::post()
            .insert_header((header::ORIGIN, "https://sync.example.com"))
            .to_http_request();
        assert!(same_origin(&ours, &console()));
        let addressed = TestRequest::post()
            .insert_header((header::ORIGIN, "http://127.0.0.1:8080"))
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .to_http_request();
        assert!(same_origin(&addressed, &console()));
        let foreign = TestRequest::post()
            .insert_header((header::ORIGIN, "https://evil.example"))
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .to_http_request();
        assert!(!same_origin(&foreign, &console()));
        let missing = TestRequest::post()
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .to_http_request();
        assert!(!same_origin(&missing, &console()));
    }

    #[test]
    fn the_csrf_field_is_read_from_a_form_body() {
        assert_eq!(field(b"a=1&csrf=x%2By", "csrf").as_deref(), Some("x+y"));
        assert_eq!(field(b"a=1", "csrf"), None);
    }
}
