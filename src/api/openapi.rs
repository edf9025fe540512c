//! The OpenAPI 3.1 document, generated from the handlers and their types, and the docs page
//! (Swagger UI, vendored into the binary, so it renders with no network). Each operation's
//! `security` lists the least role it needs, as OpenAPI 3.1 allows for non-OAuth schemes.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_swagger_ui::SwaggerUi;

use super::{
    audit, bulk, clients, conflicts, dead_events, error, imports, operators, outbox, records, reports, stats,
};

/// The operator API, as documented.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "clientsync operator API",
        description = "See and decide what the sync would not decide: conflicts, clients, operators, \
                       the audit log, dashboard counters and reports. Every operation needs a personal token \
                       (`Authorization: Bearer cs_…`); `security` names the least role.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        conflicts::list, conflicts::show, conflicts::resolve,
        clients::search, clients::show, clients::timeline, clients::unpin,
        operators::list, operators::add, operators::revoke, operators::set_role, operators::issue_token,
        audit::list, audit::undo,
        records::move_record,
        dead_events::list, dead_events::show, dead_events::replay,
        outbox::list, outbox::retry,
        bulk::start, bulk::show, bulk::cancel,
        stats::show,
        reports::show,
        imports::list, imports::show,
    ),
    components(schemas(error::ErrorOut)),
    modifiers(&Tokens),
    tags(
        (name = "conflicts", description = "What the engine left to people"),
        (name = "clients", description = "The golden list"),
        (name = "operators", description = "People, roles and tokens (admin)"),
        (name = "audit", description = "Every change by a person or the CLI"),
        (name = "records", description = "Source records: moving one to another or a new client"),
        (name = "dead-events", description = "Events that failed for good, and their replay"),
        (name = "outbox", description = "Planned write-backs to the sources"),
        (name = "bulk", description = "Actions over every row a filter selects (admin)"),
        (name = "stats", description = "Counters for a dashboard, from stored rows"),
        (name = "reports", description = "Counts per day from stored rows, and the backlog now"),
        (name = "imports", description = "Runs of `clientsync import`: counters and column statistics"),
    )
)]
pub struct ApiDoc;

struct Tokens;

impl Modify for Tokens {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal operator token from `clientsync operators add`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bootstrap",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "CLIENTSYNC_SERVER__BOOTSTRAP_TOKEN: creates the first admin, nothing else",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as committed in `docs/openapi.json`.
pub fn document() -> String {
    // Pretty, with a trailing newline, so the committed file diffs line by line.
    let mut text = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// The docs page at `/api/v1/docs/` and the document at `/api/v1/openapi.json`.
pub fn docs() -> SwaggerUi {
    SwaggerUi::new("/api/v1/docs/{_:.*}").url("/api/v1/openapi.json", ApiDoc::openapi())
}

/// Sends `/api/v1/docs` to the page itself.
pub async fn docs_home() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Found()
        .insert_header((actix_web::http::header::LOCATION, "/api/v1/docs/index.html"))
        .finish()
}
