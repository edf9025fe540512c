//! Who may call what: every operation in the OpenAPI document, called without a token, with a
//! wrong one, with a revoked one and with each role below the one it declares, is refused with
//! 401 or 403 and changes nothing. The document drives the test, so a route added later is
//! covered the day it is documented, and an undocumented role is caught.

use std::collections::BTreeMap;

use entity::{
    audit_log, bulk_jobs, clients, conflicts, field_provenance, inbox_events, match_exclusions,
    operator_tokens,
    operators::{self, Role},
    outbox,
};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, now_ms, spawn_app_with},
    operator::{OperatedApp, phones_disagree},
};

on_both_backends!(
    every_operation_refuses_missing_wrong_revoked_and_too_low_credentials_and_changes_nothing,
    the_bootstrap_token_creates_the_first_admin_and_nothing_else,
    repeated_failed_authentication_from_one_address_gets_429_even_with_a_right_token,
    operator_changes_each_write_one_audit_row_naming_the_identity_behind_the_token,
);

/// Counts that any change would move: every change writes an audit row, and the rest catch a
/// change that forgot to.
async fn fingerprint(app: &TestApp) -> BTreeMap<&'static str, u64> {
    let db = &app.db;
    let mut counts = BTreeMap::new();
    counts.insert("audit", audit_log::Entity::find().count(db).await.unwrap_or(0));
    counts.insert(
        "operators",
        operators::Entity::find().count(db).await.unwrap_or(0),
    );
    counts.insert(
        "tokens",
        operator_tokens::Entity::find().count(db).await.unwrap_or(0),
    );
    let open = conflicts::Entity::find()
        .all(db)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|c| c.status == conflicts::ConflictStatus::Open)
        .count() as u64;
    counts.insert("open_conflicts", open);
    let pins = field_provenance::Entity::find()
        .all(db)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|p| p.pinned)
        .count() as u64;
    counts.insert("pins", pins);
    counts.insert("clients", clients::Entity::find().count(db).await.unwrap_or(0));
    counts.insert(
        "exclusions",
        match_exclusions::Entity::find().count(db).await.unwrap_or(0),
    );
    counts.insert(
        "bulk_jobs",
        bulk_jobs::Entity::find().count(db).await.unwrap_or(0),
    );
    let pending = outbox::Entity::find()
        .all(db)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|o| o.status == outbox::OutboxStatus::Pending)
        .count() as u64;
    counts.insert("pending_writebacks", pending);
    counts
}

/// Real ids for every kind of path parameter, so a missing check would really change something.
struct Targets {
    conflict: String,
    client: String,
    dead_event: String,
    writeback: String,
    bulk_job: String,
    audit_row: String,
}

impl Targets {
    /// A dead event, a failed write-back and a finished bulk job beside the seeded conflict;
    /// `audit_row` is the newest change, which an undo would reverse.
    async fn seed(app: &TestApp, conflict: String, client: String) -> Self {
        let now = chrono::Utc::now();
        let event = crate::helpers::hubspot_property(77, "email", "dead@example.com", now_ms());
        inbox_events::ActiveModel {
            id: Set("hubspot:dead-1".into()),
            source: Set("hubspot".into()),
            event_type: Set("contact.propertyChange".into()),
            object_id: Set("77".into()),
            occurred_at_ms: Set(now_ms()),
            received_at: Set(now),
            payload: Set(event),
            status: Set(inbox_events::InboxStatus::Dead),
            attempts: Set(3),
            last_error: Set(Some("database: gone".into())),
            updated_at: Set(now),
            payload_pruned_at: Set(None),
        }
        .insert(&app.db)
        .await
        .expect("dead event");
        let writeback = uuid::Uuid::now_v7();
        outbox::ActiveModel {
            id: Set(writeback),
            subject: Set(outbox::OutboxSubject::Client),
            client_id: Set(Some(client.parse().expect("uuid"))),
            project_id: Set(None),
            source: Set("hubspot".into()),
            external_id: Set("contact:1".into()),
            kind: Set("contact".into()),
            field: Set("phone".into()),
            value: Set("+34622222222".into()),
            status: Set(outbox::OutboxStatus::Failed),
            pending_key: Set(None),
            attempts: Set(8),
            next_attempt_at: Set(now),
            last_error: Set(Some("refused".into())),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&app.db)
        .await
        .expect("failed write-back");
        let job = clientsync::store::bulk_jobs::create(&app.db, "replay_dead", json!({}), 0, "ada")
            .await
            .expect("job");
        let audit_row = audit_log::Entity::find()
            .all(&app.db)
            .await
            .expect("audit")
            .into_iter()
            .filter(|r| r.action == "conflict.resolve")
            .max_by_key(|r| r.id)
            .map(|r| r.id.to_string())
            .expect("a resolution to undo");
        Self {
            conflict,
            client,
            dead_event: "hubspot:dead-1".into(),
            writeback: writeback.to_string(),
            bulk_job: job.id.to_string(),
            audit_row,
        }
    }
}

/// The least role each documented operation declares, with its method and path.
fn operations() -> Vec<(Method, String, String, Option<Role>)> {
    let doc: Value = serde_json::from_str(&clientsync::api::openapi::document()).expect("document");
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            let role = op["security"].as_array().and_then(|s| {
                s.iter().find_map(|req| {
                    req["token"]
                        .as_array()
                        .and_then(|roles| roles.first())
                        .and_then(Value::as_str)
                })
            });
            let role = role.map(|r| match r {
                "viewer" => Role::Viewer,
                "steward" => Role::Steward,
                "admin" => Role::Admin,
                other => panic!("{id} declares an unknown role `{other}`"),
            });
            found.push((
                method.to_uppercase().parse().expect("method"),
                path.clone(),
                id,
                role,
            ));
        }
    }
    found
}

/// A path with real ids filled in, so a missing check would really change something.
fn concrete(path: &str, ids: &Targets) -> String {
    // A real report, so a missing check would answer 200 with data rather than 404.
    let mut out = path.replace("/reports/{name}", "/reports/events-per-day");
    for (param, value) in [
        ("{field}", "phone"),
        ("{name}", "alice"),
        ("{source}", "hubspot"),
        ("{external_id}", "contact:1"),
    ] {
        out = out.replace(param, value);
    }
    let id = match out.split('/').nth(3).unwrap_or_default() {
        "clients" => &ids.client,
        "dead-events" => &ids.dead_event,
        "outbox" => &ids.writeback,
        "bulk" => &ids.bulk_job,
        "audit" => &ids.audit_row,
        _ => &ids.conflict,
    };
    out.replace("{id}", id)
}

fn body_for(operation: &str) -> Value {
    match operation {
        "conflicts_resolve" => json!({"action": "keep_hubspot"}),
        "operators_add" => json!({"name": "mallory", "role": "admin"}),
        "operators_set_role" => json!({"role": "admin"}),
        "records_move" => json!({"to": "new", "reason": "matrix"}),
        "bulk_start" => json!({"action": "replay_dead", "filter": {}, "dry_run": false}),
        "audit_undo" => json!({"reason": "matrix"}),
        _ => json!({}),
    }
}

async fn call(app: &TestApp, method: &Method, path: &str, id: &str, token: Option<&str>) -> StatusCode {
    let mut request = app
        .client
        .request(method.clone(), format!("{}{path}", app.address))
        .json(&body_for(id));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request").status()
}

async fn seeded(backend: Backend) -> (OperatedApp, String, String) {
    let app = spawn_app_with(backend, |config| config.server.auth_failures_per_minute = 100_000).await;
    let token = app.add_operator("alice", Role::Steward).await;
    let app = OperatedApp { app, token };
    phones_disagree(&app, now_ms() - 60_000).await;
    let conflict = app.conflicts().await.first().expect("a conflict").to_owned();
    let client = conflict.client_id.expect("client").to_string();
    (app, conflict.id.to_string(), client)
}

async fn every_operation_refuses_missing_wrong_revoked_and_too_low_credentials_and_changes_nothing(
    backend: Backend,
) {
    let (app, conflict, client) = seeded(backend).await;
    // Pin something, so unpin has a real target.
    let accepted = app
        .client
        .post(format!("{}/api/v1/conflicts/{conflict}/resolve", app.address))
        .bearer_auth(&app.token)
        .json(&json!({"action": "accept_clickup"}))
        .send()
        .await
        .expect("request");
    assert_eq!(accepted.status(), StatusCode::OK);
    phones_disagree(&app, now_ms()).await;
    let conflict = app
        .conflicts()
        .await
        .iter()
        .find(|c| c.status == conflicts::ConflictStatus::Open)
        .map(|c| c.id.to_string())
        .unwrap_or(conflict);

    let viewer = app.add_operator("vera", Role::Viewer).await;
    let steward = app.add_operator("stan", Role::Steward).await;
    let revoked = app.add_operator("rex", Role::Admin).await;
    app.add_operator("ada", Role::Admin).await;
    let cli = clientsync::domain::Actor::cli(Some("test"));
    clientsync::access::revoke(&app.db, &cli, "rex")
        .await
        .expect("revoke");
    let below = |needed: Role| -> Vec<&str> {
        match needed {
            Role::Viewer => vec![],
            Role::Steward => vec![viewer.as_str()],
            Role::Admin => vec![viewer.as_str(), steward.as_str()],
        }
    };

    let ids = Targets::seed(&app, conflict, client).await;
    let operations = operations();
    assert!(operations.len() >= 10, "the document lists the API");
    let before = fingerprint(&app).await;
    for (method, path, id, role) in &operations {
        let role = role.unwrap_or_else(|| panic!("{id} ({method} {path}) declares no role"));
        let path = concrete(path, &ids);
        let wrong = format!("cs_{}", "A".repeat(43));
        for (who, token) in [
            ("no token", None),
            ("a wrong token", Some(wrong.as_str())),
            ("a revoked token", Some(revoked.as_str())),
        ] {
            let status = call(&app, method, &path, id, token).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{id} {method} {path} with {who}"
            );
        }
        for token in below(role) {
            let status = call(&app, method, &path, id, Some(token)).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{id} {method} {path} with too low a role"
            );
        }
        assert_eq!(
            fingerprint(&app).await,
            before,
            "{id}: a refused call changed nothing"
        );
    }
}

async fn the_bootstrap_token_creates_the_first_admin_and_nothing_else(backend: Backend) {
    const BOOTSTRAP: &str = "bootstrap-token-for-tests-0123456789";
    let app = spawn_app_with(backend, |config| {
        config.server.bootstrap_token = Some(secrecy::SecretString::from(BOOTSTRAP));
    })
    .await;
    let url = format!("{}/api/v1/operators", app.address);
    let read = app
        .client
        .get(&url)
        .bearer_auth(BOOTSTRAP)
        .send()
        .await
        .expect("request");
    assert_eq!(read.status(), StatusCode::UNAUTHORIZED, "it reads nothing");
    let steward = app
        .client
        .post(&url)
        .bearer_auth(BOOTSTRAP)
        .json(&json!({"name": "sam", "role": "steward"}))
        .send()
        .await
        .expect("request");
    assert_eq!(steward.status(), StatusCode::FORBIDDEN, "only an admin");
    let first = app
        .client
        .post(&url)
        .bearer_auth(BOOTSTRAP)
        .json(&json!({"name": "Åsa Ødegård", "role": "admin"}))
        .send()
        .await
        .expect("request");
    assert_eq!(first.status(), StatusCode::CREATED);
    let body: Value = first.json().await.expect("json");
    let token = body["token"].as_str().expect("token").to_owned();
    let again = app
        .client
        .post(&url)
        .bearer_auth(BOOTSTRAP)
        .json(&json!({"name": "eve", "role": "admin"}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        again.status(),
        StatusCode::FORBIDDEN,
        "closed once an admin exists"
    );
    let list: Value = app
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["name"], "Åsa Ødegård");
    assert_eq!(list[0]["created_by"], "bootstrap");
    let rows = audit_log::Entity::find().all(&app.db).await.expect("audit");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].actor.as_str(), rows[0].via.as_str()),
        ("bootstrap", "bootstrap")
    );
}

async fn repeated_failed_authentication_from_one_address_gets_429_even_with_a_right_token(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.server.auth_failures_per_minute = 3).await;
    let token = app.add_operator("alice", Role::Viewer).await;
    let url = format!("{}/api/v1/conflicts", app.address);
    let guess = format!("cs_{}", "B".repeat(43));
    for _ in 0..3 {
        let r = app
            .client
            .get(&url)
            .bearer_auth(&guess)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app
        .client
        .get(&url)
        .bearer_auth(&guess)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["code"], "too_many_attempts");
    let right = app
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the address waits it out"
    );
}

/// A call, its body, whose token, the audit action it must write, and its status.
type Step<'a> = (Method, String, Option<Value>, &'a str, &'a str, StatusCode);

async fn operator_changes_each_write_one_audit_row_naming_the_identity_behind_the_token(backend: Backend) {
    let (app, conflict, client) = seeded(backend).await;
    let admin = app.add_operator("ada", Role::Admin).await;
    let audit_rows = || async { audit_log::Entity::find().count(&app.db).await.expect("count") };
    let start = audit_rows().await;
    let steps: Vec<Step> = vec![
        (
            Method::POST,
            format!("/api/v1/conflicts/{conflict}/resolve"),
            Some(json!({"action": "accept_clickup"})),
            &app.token,
            "conflict.resolve",
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            format!("/api/v1/clients/{client}/pins/phone"),
            None,
            &app.token,
            "client.unpin",
            StatusCode::NO_CONTENT,
        ),
        (
            Method::POST,
            "/api/v1/operators".into(),
            Some(json!({"name": "Łukasz", "role": "viewer"})),
            &admin,
            "operator.add",
            StatusCode::CREATED,
        ),
        (
            Method::PUT,
            "/api/v1/operators/Łukasz/role".into(),
            Some(json!({"role": "steward"})),
            &admin,
            "operator.set_role",
            StatusCode::NO_CONTENT,
        ),
        (
            Method::POST,
            "/api/v1/operators/Łukasz/tokens".into(),
            None,
            &admin,
            "operator.token",
            StatusCode::CREATED,
        ),
        (
            Method::DELETE,
            "/api/v1/operators/Łukasz".into(),
            None,
            &admin,
            "operator.revoke",
            StatusCode::NO_CONTENT,
        ),
    ];
    for (i, (method, path, body, token, action, expected)) in steps.into_iter().enumerate() {
        let mut request = app
            .client
            .request(method, format!("{}{path}", app.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        assert_eq!(
            response.status(),
            expected,
            "{action}: {}",
            response.text().await.unwrap_or_default()
        );
        assert_eq!(
            audit_rows().await,
            start + i as u64 + 1,
            "{action} wrote exactly one row"
        );
        let newest = audit_log::Entity::find()
            .all(&app.db)
            .await
            .expect("audit")
            .into_iter()
            .max_by_key(|r| r.id)
            .expect("a row");
        assert_eq!(newest.action, action);
        let who = if action.starts_with("operator.") {
            "ada"
        } else {
            "alice"
        };
        assert_eq!((newest.actor.as_str(), newest.via.as_str()), (who, "api"));
        assert!(newest.actor_id.is_some());
    }
    let listed: Value = app
        .client
        .get(format!("{}/api/v1/audit?actor=ada&limit=2", app.address))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(listed["items"][0]["action"], "operator.revoke", "newest first");
    assert!(listed["next_after"].is_string(), "a full page has a next one");
}
