//! Fake HubSpot CRM v3 object API (`contacts`/`0-1`, `companies`/`0-2`, `deals`/`0-3`): read, batch read, list,
//! search, update and batch update, with HubSpot's auth, rate-limit headers and error bodies.

mod handlers;
mod search;
pub(crate) mod store;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde_json::{Value, json};

use super::{
    Endpoint,
    limits::Injected,
    state::{Shared, World},
};

/// The CRM object types the simulator holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectType {
    /// `contacts` (`0-1`).
    Contact,
    /// `companies` (`0-2`).
    Company,
    /// `deals` (`0-3`): what projects are billed through.
    Deal,
}

impl ObjectType {
    /// Reads the path segment, by name or object type id.
    pub(crate) fn parse(segment: &str) -> Option<Self> {
        match segment {
            "contacts" | "contact" | "0-1" => Some(Self::Contact),
            "companies" | "company" | "0-2" => Some(Self::Company),
            "deals" | "deal" | "0-3" => Some(Self::Deal),
            _ => None,
        }
    }

    /// The path segment.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Contact => "contacts",
            Self::Company => "companies",
            Self::Deal => "deals",
        }
    }

    /// Prefix of its webhook subscription types.
    pub(crate) fn event_prefix(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Company => "company",
            Self::Deal => "deal",
        }
    }

    /// Base of its (made-up, stable) subscription ids.
    pub(crate) fn subscription_base(self) -> u64 {
        match self {
            Self::Contact => 1_000,
            Self::Company => 2_000,
            Self::Deal => 3_000,
        }
    }

    /// Properties returned when none are asked for, as HubSpot does.
    pub(crate) fn default_properties(self) -> &'static [&'static str] {
        match self {
            Self::Contact => &["email", "firstname", "lastname"],
            Self::Company => &["name", "domain"],
            Self::Deal => &["dealname", "amount", "dealstage"],
        }
    }

    /// The type's own last-modified property name.
    pub(crate) fn modified_property(self) -> &'static str {
        match self {
            Self::Contact => "lastmodifieddate",
            Self::Company | Self::Deal => "hs_lastmodifieddate",
        }
    }
}

/// Why a HubSpot API request was refused; rendered as HubSpot's error body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HubSpotError {
    /// Wrong or missing bearer token.
    #[error("Authentication credentials not found.")]
    Unauthorized,
    /// The object does not exist (or is archived).
    #[error("Object not found.  objectId are usually numeric.")]
    NotFound,
    /// The body or query is invalid.
    #[error("{0}")]
    Validation(String),
    /// A rate limit was reached.
    #[error("You have reached your {} limit.", .0.message_name())]
    RateLimited(Policy),
    /// An injected outage.
    #[error("Service unavailable")]
    Unavailable,
}

/// Which HubSpot rate-limit policy refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// The per-token burst window.
    TenSecondly,
    /// The daily quota.
    Daily,
    /// The search endpoints' per-second limit.
    Secondly,
}

impl Policy {
    fn name(self) -> &'static str {
        match self {
            Policy::TenSecondly => "TEN_SECONDLY_ROLLING",
            Policy::Daily => "DAILY",
            Policy::Secondly => "SECONDLY",
        }
    }

    fn message_name(self) -> &'static str {
        match self {
            Policy::TenSecondly => "ten_secondly_rolling",
            Policy::Daily => "daily",
            Policy::Secondly => "secondly",
        }
    }
}

impl HubSpotError {
    fn status(&self) -> StatusCode {
        match self {
            HubSpotError::Unauthorized => StatusCode::UNAUTHORIZED,
            HubSpotError::NotFound => StatusCode::NOT_FOUND,
            HubSpotError::Validation(_) => StatusCode::BAD_REQUEST,
            HubSpotError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            HubSpotError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn body(&self) -> Value {
        let correlation = uuid::Uuid::new_v4().to_string();
        let message = self.to_string();
        match self {
            HubSpotError::RateLimited(policy) => json!({
                "status": "error", "message": message, "errorType": "RATE_LIMIT",
                "correlationId": correlation, "policyName": policy.name(),
                "requestId": uuid::Uuid::new_v4().to_string(),
            }),
            other => {
                let category = match other {
                    HubSpotError::Unauthorized => "INVALID_AUTHENTICATION",
                    HubSpotError::NotFound => "OBJECT_NOT_FOUND",
                    HubSpotError::Validation(_) => "VALIDATION_ERROR",
                    _ => "SERVICE_UNAVAILABLE",
                };
                json!({"status": "error", "message": message, "correlationId": correlation, "category": category})
            }
        }
    }
}

/// A handler's answer: status and JSON body, or a refusal.
pub(crate) type Reply = Result<(StatusCode, Value), HubSpotError>;

/// The `X-HubSpot-RateLimit-*` values of one response.
#[derive(Debug, Clone, Copy)]
struct RateHeaders {
    max: u32,
    remaining: u32,
    interval_ms: u128,
    daily: u64,
    daily_remaining: u64,
}

/// Mounts the HubSpot routes under `/hubspot`.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/hubspot/crm/v3/objects/{object_type}")
            .route("/search", web::post().to(handlers::search))
            .route("/batch/read", web::post().to(handlers::batch_read))
            .route("/batch/update", web::post().to(handlers::batch_update))
            .route("", web::get().to(handlers::list))
            .route("/{id}", web::get().to(handlers::read))
            .route("/{id}", web::patch().to(handlers::update)),
    );
}

/// Runs a handler behind HubSpot's auth, faults and limits, and renders its answer.
pub(crate) fn serve(
    shared: &Shared,
    req: &HttpRequest,
    endpoint: Endpoint,
    handler: impl FnOnce(&mut World, &Shared) -> Reply,
) -> HttpResponse {
    let mut world = shared.world();
    world.count_call(endpoint);
    let expected = format!("Bearer {}", shared.config.hubspot_token);
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(expected.as_str()) {
        return render(Err(HubSpotError::Unauthorized), None);
    }
    let search = endpoint == Endpoint::HubSpotSearch;
    let (headers, refusal) = gate(&mut world, search);
    if let Some(refusal) = refusal {
        if matches!(refusal, HubSpotError::RateLimited(_)) {
            world.rate_limited += 1;
        }
        return render(Err(refusal), headers);
    }
    render(handler(&mut world, shared), headers)
}

/// Decides faults and limits; the headers to send (none for search) and any refusal.
fn gate(world: &mut World, search: bool) -> (Option<RateHeaders>, Option<HubSpotError>) {
    let now = tokio::time::Instant::now();
    let injected = world.faults.take();
    if search {
        let refusal = match injected {
            Some(Injected::RateLimit) => Some(HubSpotError::RateLimited(Policy::Secondly)),
            Some(Injected::ServerError) => Some(HubSpotError::Unavailable),
            None => world
                .hubspot_search
                .try_acquire(now)
                .err()
                .map(|()| HubSpotError::RateLimited(Policy::Secondly)),
        };
        return (None, refusal);
    }
    let mut headers = RateHeaders {
        max: world.hubspot_burst.max(),
        remaining: world.hubspot_burst.remaining(now),
        interval_ms: world.hubspot_burst.interval_ms(),
        daily: world.hubspot_daily.max(),
        daily_remaining: world.hubspot_daily.remaining(),
    };
    let refusal = match injected {
        Some(Injected::RateLimit) => {
            headers.remaining = 0;
            Some(HubSpotError::RateLimited(Policy::TenSecondly))
        }
        Some(Injected::ServerError) => Some(HubSpotError::Unavailable),
        None if !world.hubspot_daily.has_room() => {
            headers.daily_remaining = 0;
            Some(HubSpotError::RateLimited(Policy::Daily))
        }
        None => match world.hubspot_burst.try_acquire(now) {
            Ok(remaining) => {
                world.hubspot_daily.count();
                headers.remaining = remaining;
                headers.daily_remaining = world.hubspot_daily.remaining();
                None
            }
            Err(()) => {
                headers.remaining = 0;
                Some(HubSpotError::RateLimited(Policy::TenSecondly))
            }
        },
    };
    (Some(headers), refusal)
}

fn render(reply: Reply, headers: Option<RateHeaders>) -> HttpResponse {
    let (status, body) = match reply {
        Ok(ok) => ok,
        Err(e) => (e.status(), e.body()),
    };
    let mut response = HttpResponse::build(status);
    if let Some(h) = headers {
        response
            .insert_header(("X-HubSpot-RateLimit-Max", h.max.to_string()))
            .insert_header(("X-HubSpot-RateLimit-Remaining", h.remaining.to_string()))
            .insert_header((
                "X-HubSpot-RateLimit-Interval-Milliseconds",
                h.interval_ms.to_string(),
            ))
            .insert_header(("X-HubSpot-RateLimit-Daily", h.daily.to_string()))
            .insert_header((
                "X-HubSpot-RateLimit-Daily-Remaining",
                h.daily_remaining.to_string(),
            ));
    }
    response.json(body)
}
