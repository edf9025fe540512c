//! The operator console over HTTP, as a browser would use it: sessions, CSRF, roles, the pages'
//! numbers and the decisions they make. (The same scenarios in real Chromium are in
//! tests/browser; these run on both backends and check the rows behind the pages.)

use chrono::{TimeDelta, Utc};
use entity::{audit_log, conflicts::ConflictStatus, console_sessions, inbox_events, operators::Role, outbox};
use reqwest::{StatusCode, header};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use secrecy::SecretString;
use serde_json::json;

use crate::{
    helpers::{Backend, TestApp, now_ms, spawn_app_with},
    operator::{OperatedApp, operator_app, phones_disagree},
};

on_both_backends!(
    an_operator_signs_in_with_a_password_into_a_session_stored_only_as_a_hash,
    a_token_signs_in_too_and_a_wrong_password_does_not,
    resolving_a_field_mismatch_in_the_console_is_audited_once_and_the_conflict_leaves_the_list,
    a_viewer_sees_no_decisions_and_their_post_is_refused_with_nothing_changed,
    a_post_without_the_csrf_token_or_from_another_origin_is_refused_with_nothing_changed,
    logout_deletes_the_session_and_its_cookie_no_longer_works,
    an_idle_session_expires_and_so_does_one_past_its_cap,
    the_needs_attention_page_counts_stored_rows_by_source,
    admins_add_reassign_and_revoke_operators_from_the_console_and_revoking_ends_their_sessions,
    the_console_sessions_migration_rolls_back_and_forward,
    the_reports_page_shows_a_table_a_chart_and_a_csv_of_the_same_counts,
);

/// A form's fields, in order.
pub(crate) type Form<'a> = Vec<(&'a str, &'a str)>;

/// A browser without cookie jar or redirects: the test sees every answer.
pub(crate) struct Browser {
    client: reqwest::Client,
    address: String,
    cookie: Option<String>,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            address: app.address.clone(),
            cookie: None,
        }
    }

    pub(crate) async fn sign_in(&mut self, form: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .client
            .post(format!("{}/console/login", self.address))
            .header(header::ORIGIN, &self.address)
            .form(form)
            .send()
            .await
            .unwrap();
        if let Some(set) = response.headers().get(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            self.cookie = set.split(';').next().map(str::to_owned);
        }
        response
    }

    pub(crate) async fn sign_in_with_token(&mut self, token: &str) {
        let response = self.sign_in(&[("token", token)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String) {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// The session's CSRF token, as the layout gives it to forms.
    pub(crate) async fn csrf(&self) -> String {
        let (_, page) = self.get("/console/attention").await;
        let marker = r#"<meta name="csrf-token" content=""#;
        let start = page.find(marker).expect("a CSRF meta tag") + marker.len();
        page[start..].split('"').next().unwrap().to_owned()
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        origin: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header("HX-Request", "true")
            .form(form);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.send().await.unwrap()
    }
}

fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn set_password(app: &TestApp, name: &str, password: &str) {
    clientsync::access::set_password(
        &app.db,
        &clientsync::domain::Actor::cli(Some("test")),
        name,
        &SecretString::from(password.to_owned()),
    )
    .await
    .unwrap();
}

pub(crate) async fn audit_rows(app: &TestApp) -> Vec<audit_log::Model> {
    audit_log::Entity::find().all(&app.db).await.unwrap()
}

async fn open_mismatch(app: &OperatedApp) -> String {
    phones_disagree(app, now_ms() - 10_000).await;
    let open: Vec<_> = app
        .conflicts()
        .await
        .into_iter()
        .filter(|c| c.status == ConflictStatus::Open)
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    open[0].id.to_string()
}

async fn an_operator_signs_in_with_a_password_into_a_session_stored_only_as_a_hash(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    app.add_operator("olga", Role::Viewer).await;
    set_password(&app, "olga", "a long enough passphrase").await;
    let mut browser = Browser::new(&app);

    let (status, _) = browser.get("/console/attention").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "signed-out visitors are sent to sign in"
    );

    let response = browser
        .sign_in(&[("name", "olga"), ("password", "a long enough passphrase")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console/attention");
    let set = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(
        set.starts_with("__Host-clientsync_console="),
        "https public URL, so the __Host- prefix: {set}"
    );
    let secret = browser
        .cookie
        .clone()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let rows = console_sessions::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id_hash, clientsync::access::tokens::hash(&secret));
    assert!(!rows[0].id_hash.contains(&secret));

    let response = browser
        .client
        .get(format!("{}/console/attention", app.address))
        .header(header::COOKIE, browser.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(
        headers[header::CONTENT_SECURITY_POLICY],
        clientsync::console::CSP,
        "only our own files, no framing"
    );
    assert!(clientsync::console::CSP.contains("default-src 'self'"));
    assert!(clientsync::console::CSP.contains("frame-ancestors 'none'"));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let page = response.text().await.unwrap();
    assert!(page.contains("Needs attention") && page.contains("olga"));
    assert!(
        !page.contains("style=") && !page.contains("<script>"),
        "no inline style or script"
    );
}

async fn a_token_signs_in_too_and_a_wrong_password_does_not(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.add_operator("tom", Role::Steward).await;
    set_password(&app, "tom", "the right passphrase").await;
    let mut browser = Browser::new(&app);

    let wrong = browser
        .sign_in(&[("name", "tom"), ("password", "the wrong passphrase")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(header::SET_COOKIE).is_none());
    let forged = browser.sign_in(&[("token", "cs_not-a-real-token")]).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert!(
        console_sessions::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );

    browser.sign_in_with_token(&token).await;
    let (status, page) = browser.get("/console/conflicts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("tom") && page.contains("steward"));
    assert!(!page.contains(&token), "the token never appears in a page");
}

async fn resolving_a_field_mismatch_in_the_console_is_audited_once_and_the_conflict_leaves_the_list(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let id = open_mismatch(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&app.token).await;
    let (_, list) = browser.get("/console/conflicts").await;
    assert!(list.contains(&format!("conflict-{id}")), "the conflict is listed");
    assert!(
        list.contains(r#"value="accept_clickup""#),
        "a steward sees the decisions"
    );
    let csrf = browser.csrf().await;

    let response = browser
        .post(
            &format!("/console/conflicts/{id}/resolve"),
            Some(&app.address),
            &[("csrf", csrf.as_str()), ("action", "accept_clickup")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.text().await.unwrap().contains("hx-swap-oob"),
        "a fragment for htmx"
    );

    let conflict = app
        .conflicts()
        .await
        .into_iter()
        .find(|c| c.id.to_string() == id)
        .unwrap();
    assert_eq!(conflict.status, ConflictStatus::Resolved);
    assert_eq!(conflict.resolved_by.as_deref(), Some("alice"));
    assert_eq!(app.clients().await[0].phone.as_deref(), Some("+34622222222"));
    let audit = audit_rows(&app).await;
    let resolves: Vec<_> = audit.iter().filter(|r| r.action == "conflict.resolve").collect();
    assert_eq!(resolves.len(), 1, "{audit:?}");
    assert_eq!(
        (resolves[0].actor.as_str(), resolves[0].via.as_str()),
        ("alice", "console")
    );
    let (_, list) = browser.get("/console/conflicts").await;
    assert!(!list.contains(&format!("conflict-{id}")), "it left the list");

    let again = browser
        .post(
            &format!("/console/conflicts/{id}/resolve"),
            Some(&app.address),
            &[("csrf", csrf.as_str()), ("action", "keep_hubspot")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(
        again.headers()["HX-Retarget"],
        "#flash",
        "the error goes to the alert area"
    );
}

async fn a_viewer_sees_no_decisions_and_their_post_is_refused_with_nothing_changed(backend: Backend) {
    let app = operator_app(backend).await;
    let id = open_mismatch(&app).await;
    let viewer = app.add_operator("vera", Role::Viewer).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&viewer).await;
    let (status, list) = browser.get("/console/conflicts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("conflict-{id}")));
    assert!(!list.contains("/resolve"), "no decision forms for a viewer");
    assert!(!list.contains("Operators"), "no admin navigation for a viewer");
    let audit_before = audit_rows(&app).await.len();

    let csrf = browser.csrf().await;
    let response = browser
        .post(
            &format!("/console/conflicts/{id}/resolve"),
            Some(&app.address),
            &[("csrf", csrf.as_str()), ("action", "keep_hubspot")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/console/operators").await.0, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/console/audit").await.0, StatusCode::FORBIDDEN);
    let still = app
        .conflicts()
        .await
        .into_iter()
        .find(|c| c.id.to_string() == id)
        .unwrap();
    assert_eq!(still.status, ConflictStatus::Open);
    assert_eq!(audit_rows(&app).await.len(), audit_before);
}

async fn a_post_without_the_csrf_token_or_from_another_origin_is_refused_with_nothing_changed(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let id = open_mismatch(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&app.token).await;
    let csrf = browser.csrf().await;
    let path = format!("/console/conflicts/{id}/resolve");
    let attempts: [(Option<&str>, Form); 4] = [
        (Some(&app.address), vec![("action", "keep_hubspot")]),
        (
            Some(&app.address),
            vec![("csrf", "forged"), ("action", "keep_hubspot")],
        ),
        (
            Some("https://evil.example"),
            vec![("csrf", &csrf), ("action", "keep_hubspot")],
        ),
        (None, vec![("csrf", &csrf), ("action", "keep_hubspot")]),
    ];
    for (origin, form) in attempts {
        let response = browser.post(&path, origin, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin:?} {form:?}");
    }
    let mut other = Browser::new(&app);
    other.sign_in_with_token(&app.token).await;
    let theirs = other.csrf().await;
    assert_ne!(theirs, csrf, "tokens are per session");
    let crossed = browser
        .post(
            &path,
            Some(&app.address),
            &[("csrf", theirs.as_str()), ("action", "keep_hubspot")],
        )
        .await;
    assert_eq!(
        crossed.status(),
        StatusCode::FORBIDDEN,
        "another session's token is refused"
    );
    let still = app
        .conflicts()
        .await
        .into_iter()
        .find(|c| c.id.to_string() == id)
        .unwrap();
    assert_eq!(still.status, ConflictStatus::Open);
    assert!(
        audit_rows(&app)
            .await
            .iter()
            .all(|r| r.action != "conflict.resolve")
    );
}

async fn logout_deletes_the_session_and_its_cookie_no_longer_works(backend: Backend) {
    let app = operator_app(backend).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&app.token).await;
    let csrf = browser.csrf().await;
    let response = browser
        .post("/console/logout", Some(&app.address), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console/login");
    let removal = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");
    assert!(
        console_sessions::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
    let (status, _) = browser.get("/console/attention").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old cookie opens nothing");
}

async fn an_idle_session_expires_and_so_does_one_past_its_cap(backend: Backend) {
    let app = operator_app(backend).await;
    let mut idle = Browser::new(&app);
    idle.sign_in_with_token(&app.token).await;
    assert_eq!(idle.get("/console/attention").await.0, StatusCode::OK);
    let row = console_sessions::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut stale = row.into_active_model();
    stale.last_seen_at = Set(Utc::now() - TimeDelta::minutes(61));
    stale.expires_at = Set(Utc::now() - TimeDelta::minutes(1));
    stale.update(&app.db).await.unwrap();
    assert_eq!(idle.get("/console/attention").await.0, StatusCode::SEE_OTHER);

    let mut busy = Browser::new(&app);
    busy.sign_in_with_token(&app.token).await;
    let row = console_sessions::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.expires_at > Utc::now())
        .unwrap();
    let mut old = row.into_active_model();
    old.created_at = Set(Utc::now() - TimeDelta::hours(13));
    old.update(&app.db).await.unwrap();
    assert_eq!(
        busy.get("/console/attention").await.0,
        StatusCode::SEE_OTHER,
        "used a minute ago, but signed in more than 12 hours ago"
    );
}

async fn the_needs_attention_page_counts_stored_rows_by_source(backend: Backend) {
    let app = operator_app(backend).await;
    open_mismatch(&app).await;
    let now = Utc::now();
    inbox_events::ActiveModel {
        id: Set("hubspot:dead-1".into()),
        source: Set("hubspot".into()),
        event_type: Set("contact.propertyChange".into()),
        object_id: Set("1".into()),
        occurred_at_ms: Set(now_ms()),
        received_at: Set(now),
        payload: Set(json!({})),
        status: Set(inbox_events::InboxStatus::Dead),
        attempts: Set(3),
        last_error: Set(Some("refused".into())),
        updated_at: Set(now),
        payload_pruned_at: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    for (n, status) in [outbox::OutboxStatus::Failed, outbox::OutboxStatus::Sent]
        .into_iter()
        .enumerate()
    {
        outbox::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            subject: Set(outbox::OutboxSubject::Client),
            client_id: Set(Some(app.clients().await[0].id)),
            project_id: Set(None),
            source: Set("clickup".into()),
            external_id: Set(format!("task:t{n}")),
            kind: Set("task".into()),
            field: Set("phone".into()),
            value: Set("+34600000000".into()),
            status: Set(status),
            pending_key: Set(None),
            attempts: Set(5),
            next_attempt_at: Set(now),
            last_error: Set(Some("422".into())),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&app.token).await;
    let count = |page: &str, group: &str| -> u64 {
        let row = &page[page.find(&format!(r#"id="group-{group}""#)).unwrap()..];
        let start = row.find(r#"data-count=""#).unwrap() + r#"data-count=""#.len();
        row[start..].split('"').next().unwrap().parse().unwrap()
    };
    let (_, all) = browser.get("/console/attention").await;
    assert_eq!(count(&all, "field_mismatch"), 1);
    assert_eq!(count(&all, "key_collision"), 0);
    assert_eq!(count(&all, "dead_events"), 1);
    assert_eq!(
        count(&all, "failed_write_backs"),
        1,
        "the sent write-back is not counted"
    );
    let (_, hubspot) = browser.get("/console/attention?source=hubspot").await;
    assert_eq!(count(&hubspot, "dead_events"), 1);
    assert_eq!(count(&hubspot, "failed_write_backs"), 0);
    let (_, clickup) = browser.get("/console/attention?source=clickup").await;
    assert_eq!(count(&clickup, "dead_events"), 0);
    assert_eq!(count(&clickup, "failed_write_backs"), 1);
    assert_eq!(
        browser.get("/console/attention?source=salesforce").await.0,
        StatusCode::BAD_REQUEST
    );
}

async fn admins_add_reassign_and_revoke_operators_from_the_console_and_revoking_ends_their_sessions(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |_| {}).await;
    let admin = app.add_operator("ada", Role::Admin).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&admin).await;
    let csrf = browser.csrf().await;
    let origin = Some(app.address.as_str());

    let added = browser
        .post(
            "/console/operators",
            origin,
            &[("csrf", &csrf), ("name", "vic"), ("role", "viewer")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let page = added.text().await.unwrap();
    let marker = r#"<output id="new-token" class="token">"#;
    let start = page.find(marker).unwrap() + marker.len();
    let token = page[start..].split('<').next().unwrap().to_owned();
    let mut vic = Browser::new(&app);
    vic.sign_in_with_token(&token).await;
    assert_eq!(
        vic.get("/console/attention").await.0,
        StatusCode::OK,
        "the shown token works"
    );

    let reassigned = browser
        .post(
            "/console/operators/vic/role",
            origin,
            &[("csrf", &csrf), ("role", "steward")],
        )
        .await;
    assert_eq!(reassigned.status(), StatusCode::SEE_OTHER);
    let (_, vic_page) = vic.get("/console/conflicts").await;
    assert!(
        vic_page.contains("steward"),
        "a role change applies to a live session at once"
    );

    let revoked = browser
        .post("/console/operators/vic/revoke", origin, &[("csrf", &csrf)])
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(vic.get("/console/attention").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        console_sessions::Entity::find().all(&app.db).await.unwrap().len(),
        1
    );

    let last_admin = browser
        .post("/console/operators/ada/revoke", origin, &[("csrf", &csrf)])
        .await;
    assert_eq!(last_admin.status(), StatusCode::CONFLICT);
    let actions: Vec<(String, String)> = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.via == "console")
        .map(|r| (r.action, r.target_id))
        .collect();
    assert_eq!(
        actions,
        [
            ("operator.add".to_owned(), "vic".to_owned()),
            ("operator.set_role".to_owned(), "vic".to_owned()),
            ("operator.revoke".to_owned(), "vic".to_owned()),
        ]
    );
    let (status, audit) = browser
        .get("/console/audit?actor=ada&action=operator.revoke")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audit.matches("<td>operator.revoke</td>").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_limited_per_address_like_the_api() {
    let app = spawn_app_with(Backend::Embedded, |c| c.server.auth_failures_per_minute = 3).await;
    app.add_operator("lim", Role::Viewer).await;
    set_password(&app, "lim", "the right passphrase").await;
    let mut browser = Browser::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = browser
            .sign_in(&[("name", "lim"), ("password", "a guess, wrong")])
            .await;
        statuses.push(response.status());
    }
    assert_eq!(statuses[..3], [StatusCode::UNAUTHORIZED; 3]);
    assert!(
        statuses[3..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let right = browser
        .sign_in(&[("name", "lim"), ("password", "the right passphrase")])
        .await;
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "blocked, even when right"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_served_under_a_content_hash_with_long_caching_and_an_etag() {
    let app = spawn_app_with(Backend::Embedded, |_| {}).await;
    let browser = Browser::new(&app);
    let (status, login) = browser.get("/console/login").await;
    assert_eq!(status, StatusCode::OK);
    let href = clientsync::console::assets::stylesheet();
    assert!(login.contains(href));
    for (path, kind) in [
        (href, "text/css"),
        (clientsync::console::assets::htmx(), "text/javascript"),
    ] {
        let response = browser
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let etag = response.headers()[header::ETAG].clone();
        let again = browser
            .client
            .get(format!("{}{path}", app.address))
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
    let (missing, _) = browser.get("/console/assets/console-0000.css").await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
}

async fn the_console_sessions_migration_rolls_back_and_forward(backend: Backend) {
    use migration::{Migrator, MigratorTrait};
    let app = operator_app(backend).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&app.token).await;

    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let position = names
        .iter()
        .position(|n| n == "m20261203_000013_console_sessions")
        .expect("the sessions migration is listed");
    let back = u32::try_from(names.len() - position).unwrap();
    Migrator::down(&app.db, Some(back))
        .await
        .expect("000013 rolls back");
    assert!(
        console_sessions::Entity::find().all(&app.db).await.is_err(),
        "the table is gone"
    );
    Migrator::up(&app.db, None).await.expect("000013 applies again");
    assert_eq!(
        browser.get("/console/attention").await.0,
        StatusCode::SEE_OTHER,
        "sessions went with the table"
    );
    browser.sign_in_with_token(&app.token).await;
    assert_eq!(browser.get("/console/attention").await.0, StatusCode::OK);
}

async fn the_reports_page_shows_a_table_a_chart_and_a_csv_of_the_same_counts(backend: Backend) {
    let app = operator_app(backend).await;
    let token = app.add_operator("vera", Role::Viewer).await;
    let today = Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    for (n, at) in [
        today,
        today - TimeDelta::seconds(1),
        today - TimeDelta::seconds(2),
    ]
    .into_iter()
    .enumerate()
    {
        inbox_events::ActiveModel {
            id: Set(format!("hubspot:report-{n}")),
            source: Set("hubspot".into()),
            event_type: Set("contact.creation".into()),
            object_id: Set("1".into()),
            occurred_at_ms: Set(at.timestamp_millis()),
            received_at: Set(at),
            payload: Set(json!({})),
            status: Set(inbox_events::InboxStatus::Processed),
            attempts: Set(1),
            last_error: Set(None),
            updated_at: Set(at),
            payload_pruned_at: Set(None),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&token).await;
    let yesterday = (today - TimeDelta::days(1)).date_naive();
    let (status, page) = browser.get("/console/reports?name=events-per-day&days=2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!(
            "<tr><td>{yesterday}</td><td>all</td><td>all</td><td>2</td>"
        )),
        "{page}"
    );
    assert!(page.contains("<polyline"), "a chart is drawn");
    assert!(!page.contains("style="), "no inline style for the CSP to refuse");
    let (status, csv) = browser.get("/console/reports/events-per-day.csv?days=2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.starts_with(&format!(
            "day,source,event_type,count,avg_14d\n{yesterday},all,all,2,0.14\n"
        )),
        "{csv}"
    );
    let (status, _) = browser.get("/console/reports?name=nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A suspended ClickUp webhook delivers nothing and ClickUp says so to nobody: once the health
/// watch sees it, "Needs attention" lists it with what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_clickup_webhook_shows_on_the_needs_attention_page() {
    use clientsync::simulator::{HealthStatus, WebhookHealth};
    let t = crate::helpers::spawn_app_with_sim(Backend::Embedded).await;
    let webhook = t
        .sim
        .clickup_webhook_id(&t.sim.clickup_list_id())
        .expect("the list's webhook");
    t.sim
        .set_webhook_health(
            &webhook,
            WebhookHealth {
                status: HealthStatus::Suspended,
                fail_count: 100,
            },
        )
        .expect("health set");
    let token = t.app.add_operator("vera", Role::Viewer).await;
    let mut browser = Browser::new(&t.app);
    browser.sign_in_with_token(&token).await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let row = loop {
        let (status, page) = browser.get("/console/attention").await;
        assert_eq!(status, StatusCode::OK);
        let row = page
            .split(r#"<tr id="group-clickup_webhooks""#)
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .expect("a ClickUp webhooks line")
            .to_owned();
        if row.contains(r#"data-count="1""#) || std::time::Instant::now() > deadline {
            break row;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(row.contains(r#"data-count="1""#), "{row}");
    assert!(
        row.contains(&format!("{webhook} (suspended, 100 dropped)")),
        "{row}"
    );
    assert!(row.contains("reactivate"), "{row}");

    let (_, hubspot_only) = browser.get("/console/attention?source=hubspot").await;
    assert!(
        !hubspot_only.contains("group-clickup_webhooks"),
        "filtered by source"
    );
}
