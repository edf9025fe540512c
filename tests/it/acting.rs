//! Stewards act on the golden list: a record said to be no match is never linked to those
//! clients again, and a record moved by hand stays where it was put, whatever events follow.

use entity::{audit_log, match_exclusions};
use reqwest::{Method, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::{
    helpers::{
        Backend, SimApp, clickup_task_update, hubspot_property, now_ms, spawn_app_in_role, spawn_app_with_sim,
    },
    operator::{OperatedApp, operator_app, phones_disagree},
};

on_both_backends!(
    a_record_said_to_be_no_match_for_a_key_collision_is_never_linked_to_those_clients_again,
    a_record_said_to_be_no_match_for_an_ambiguous_match_is_never_linked_to_those_clients_again,
    a_record_moved_to_a_new_client_stays_there_whatever_events_follow,
    a_record_moved_back_to_a_client_stays_there_and_is_told_apart_no_more,
    a_move_that_cannot_be_done_is_refused_and_changes_nothing,
    records_moved_while_the_workers_apply_their_events_stay_where_they_were_put,
    a_record_said_to_be_no_match_stays_apart_through_a_full_backfill,
);

impl OperatedApp {
    pub(crate) async fn client_of(&self, external_id: &str) -> Option<uuid::Uuid> {
        self.source_records()
            .await
            .into_iter()
            .find(|r| r.external_id == external_id)
            .and_then(|r| r.client_id)
    }

    async fn audit_count(&self) -> u64 {
        audit_log::Entity::find().count(&self.db).await.expect("count")
    }

    async fn move_record(&self, source: &str, external_id: &str, to: &str) -> (StatusCode, Value) {
        let path = format!("/api/v1/records/{source}/{external_id}/move");
        self.operator_send(
            Method::POST,
            &path,
            Some(json!({"to": to, "reason": "wrong link"})),
        )
        .await
    }
}

/// Client A holds task t-a's document key, client B contact 1's email; task t-c carries both,
/// and two tasks are two entities: a key collision.
pub(crate) async fn key_collision(app: &OperatedApp, t: i64) -> Value {
    let a = clickup_task_update("t-a", &[("h1", "Tax ID", "12345678Z")], t);
    let b = json!([hubspot_property(1, "email", "b@example.com", t)]);
    assert_eq!(app.post_clickup(&a).await.status(), 200);
    assert_eq!(app.post_hubspot(&b).await.status(), 200);
    app.drain_worker().await;
    let both = clickup_task_update(
        "t-c",
        &[("h2", "Tax ID", "12345678-Z"), ("h3", "Email", "B@example.com")],
        t + 5,
    );
    assert_eq!(app.post_clickup(&both).await.status(), 200);
    app.drain_worker().await;
    let collisions = app.open_conflicts("key_collision").await;
    assert_eq!(collisions.len(), 1, "{collisions:?}");
    collisions[0].clone()
}

async fn a_record_said_to_be_no_match_for_a_key_collision_is_never_linked_to_those_clients_again(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    let conflict = key_collision(&app, t).await;
    let (a, b) = (
        app.client_of("task:t-a").await.expect("A"),
        app.client_of("contact:1").await.expect("B"),
    );
    let audits = app.audit_count().await;

    let id = conflict["id"].as_str().expect("id");
    let (status, body) = app.resolve(id, json!({"action": "not_a_match"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "resolved");
    assert_eq!(app.audit_count().await, audits + 1, "one audit row");
    let own = app
        .client_of("task:t-c")
        .await
        .expect("placed on a client of its own");
    assert!(own != a && own != b);
    assert_eq!(app.clients().await.len(), 3);
    assert_eq!(
        match_exclusions::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        4,
        "t-c told apart from t-a and contact 1, both ways"
    );

    // Its keys arrive again, newer, with a name: still its own client, no conflict raised.
    let again = clickup_task_update(
        "t-c",
        &[
            ("h4", "Tax ID", "12345678Z"),
            ("h5", "Email", "b@example.com"),
            ("h6", "name", "Carla Ruiz"),
        ],
        t + 20,
    );
    assert_eq!(app.post_clickup(&again).await.status(), 200);
    // The other side changes too: B's contact is re-sent with its keys.
    let b_again = json!([hubspot_property(1, "email", "b@example.com", t + 21)]);
    assert_eq!(app.post_hubspot(&b_again).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.client_of("task:t-c").await, Some(own));
    assert_eq!(app.client_of("task:t-a").await, Some(a));
    assert_eq!(app.client_of("contact:1").await, Some(b));
    assert_eq!(app.clients().await.len(), 3);
    assert!(app.open_conflicts("key_collision").await.is_empty());
}

async fn a_record_said_to_be_no_match_for_an_ambiguous_match_is_never_linked_to_those_clients_again(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    app.post_two_anas_sharing_an_office_line(t).await;
    let task = clickup_task_update(
        "t9",
        &[("h1", "name", "Ana Romero"), ("h2", "Phone", "911000111")],
        t + 10,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
    let ambiguous = app.open_conflicts("ambiguous_match").await;
    assert_eq!(ambiguous.len(), 1, "{ambiguous:?}");
    let anas = [
        app.client_of("contact:1").await.expect("ana 1"),
        app.client_of("contact:2").await.expect("ana 2"),
    ];

    let id = ambiguous[0]["id"].as_str().expect("id");
    let (status, body) = app.resolve(id, json!({"action": "not_a_match"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let own = app.client_of("task:t9").await.expect("a client of its own");
    assert!(!anas.contains(&own));

    // More of the same evidence, and then the first Ana's very email: still its own.
    let more = clickup_task_update(
        "t9",
        &[("h3", "name", "Ana Romero"), ("h4", "Phone", "+34 911 000 111")],
        t + 20,
    );
    assert_eq!(app.post_clickup(&more).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.client_of("task:t9").await, Some(own));
    let email = clickup_task_update("t9", &[("h5", "Email", "ana@one.example")], t + 30);
    assert_eq!(app.post_clickup(&email).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.client_of("task:t9").await, Some(own));
    assert_eq!(app.client_of("contact:1").await, Some(anas[0]));
    assert_eq!(app.clients().await.len(), 3);
    assert!(app.open_conflicts("ambiguous_match").await.is_empty());
}

async fn a_record_moved_to_a_new_client_stays_there_whatever_events_follow(backend: Backend) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    phones_disagree(&app, t).await;
    let shared = app.client_of("contact:1").await.expect("one client");
    assert_eq!(app.client_of("task:t1").await, Some(shared));
    let audits = app.audit_count().await;

    let (status, body) = app.move_record("clickup", "task:t1", "new").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.audit_count().await, audits + 1, "one audit row");
    let split = app.client_of("task:t1").await.expect("moved");
    assert_ne!(split, shared);
    assert_eq!(body["to"], split.to_string());
    assert_eq!(body["from"], shared.to_string());
    assert_eq!(app.clients().await.len(), 2);
    assert!(
        app.open_conflicts("field_mismatch").await.is_empty(),
        "the phones are two clients' now"
    );
    let golden = app.clients().await;
    let moved = golden.iter().find(|c| c.id == split).expect("new client");
    assert_eq!(
        moved.phone.as_deref(),
        Some("+34622222222"),
        "re-derived from the task"
    );

    // Both records change and re-send the shared email: neither joins the other again.
    let task = clickup_task_update(
        "t1",
        &[
            ("h7", "Email", "eva@example.com"),
            ("h8", "Phone", "+34 655 555 555"),
        ],
        t + 20,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    let contact = json!([
        hubspot_property(1, "email", "eva@example.com", t + 21),
        hubspot_property(1, "firstname", "Eva", t + 22),
    ]);
    assert_eq!(app.post_hubspot(&contact).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.client_of("task:t1").await, Some(split));
    assert_eq!(app.client_of("contact:1").await, Some(shared));
    assert_eq!(app.clients().await.len(), 2);
    assert!(app.open_conflicts("key_collision").await.is_empty());
}

async fn a_record_moved_back_to_a_client_stays_there_and_is_told_apart_no_more(backend: Backend) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    phones_disagree(&app, t).await;
    let shared = app.client_of("contact:1").await.expect("one client");
    let (status, _) = app.move_record("clickup", "task:t1", "new").await;
    assert_eq!(status, StatusCode::OK);
    let split = app.client_of("task:t1").await.expect("moved");

    let (status, body) = app.move_record("clickup", "task:t1", &shared.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["from_removed"], true, "the client it alone fed is gone");
    assert_eq!(app.client_of("task:t1").await, Some(shared));
    assert_eq!(app.clients().await.len(), 1);
    assert!(app.clients().await.iter().all(|c| c.id != split));
    assert_eq!(
        match_exclusions::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        0,
        "put together by hand: no longer told apart"
    );
    assert_eq!(
        app.open_conflicts("field_mismatch").await.len(),
        1,
        "the phones differ again"
    );
    let task = clickup_task_update("t1", &[("h9", "Email", "other@example.com")], t + 30);
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(
        app.client_of("task:t1").await,
        Some(shared),
        "a new email does not move it"
    );
}

async fn a_move_that_cannot_be_done_is_refused_and_changes_nothing(backend: Backend) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 60_000).await;
    let shared = app.client_of("contact:1").await.expect("client");
    let audits = app.audit_count().await;
    for (source, external_id, to, expected) in [
        (
            "hubspot",
            "contact:1",
            shared.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("hubspot", "contact:404", "new".to_owned(), StatusCode::NOT_FOUND),
        (
            "hubspot",
            "contact:1",
            uuid::Uuid::new_v4().to_string(),
            StatusCode::NOT_FOUND,
        ),
        (
            "salesforce",
            "contact:1",
            "new".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "hubspot",
            "contact:1",
            "somewhere".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, body) = app.move_record(source, external_id, &to).await;
        assert_eq!(status, expected, "{source}/{external_id} -> {to}: {body}");
        assert!(body["code"].is_string() && body["detail"].is_string(), "{body}");
    }
    let viewer = app.add_operator("vera", entity::operators::Role::Viewer).await;
    let refused = app
        .client
        .post(format!("{}/api/v1/records/clickup/task:t1/move", app.address))
        .bearer_auth(&viewer)
        .json(&json!({"to": "new"}))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.audit_count().await,
        audits + 1,
        "only vera's creation was audited"
    );
    assert_eq!(app.clients().await.len(), 1);
    assert_eq!(app.client_of("task:t1").await, Some(shared));
}

/// Polls until `ready` holds, failing after a minute.
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut ready: impl FnMut() -> F) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !ready().await {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not happen in time"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn records_moved_while_the_workers_apply_their_events_stay_where_they_were_put(backend: Backend) {
    const N: i64 = 8;
    const ROUNDS: i64 = 3;
    let app = spawn_app_in_role(backend, clientsync::startup::Role::All, |_| {}).await;
    let token = app.add_operator("alice", entity::operators::Role::Steward).await;
    let app = OperatedApp { app, token };
    let t = now_ms() - 600_000;
    for i in 0..N {
        let email = format!("p{i}@example.com");
        let contact = json!([hubspot_property(100 + i, "email", &email, t + i)]);
        assert_eq!(app.post_hubspot(&contact).await.status(), 200);
        let task = clickup_task_update(&format!("t{i}"), &[(&format!("h0{i}"), "Email", &email)], t + i);
        assert_eq!(app.post_clickup(&task).await.status(), 200);
    }
    eventually("every pair linked", || async {
        let records = app.source_records().await;
        records.len() == 2 * N as usize
            && records.iter().all(|r| r.client_id.is_some())
            && app.clients().await.len() == N as usize
    })
    .await;

    // Events keep arriving for every record while a steward splits each task off its contact.
    let events = async {
        for round in 1..=ROUNDS {
            for i in 0..N {
                let at = t + 1_000 * round + 10 * i;
                let email = format!("p{i}@example.com");
                let contact = json!([
                    hubspot_property(100 + i, "firstname", &format!("Round{round}"), at),
                    hubspot_property(100 + i, "email", &email, at + 1),
                ]);
                assert_eq!(app.post_hubspot(&contact).await.status(), 200);
                let (phone, mail) = (format!("h{round}{i}p"), format!("h{round}{i}e"));
                let task = clickup_task_update(
                    &format!("t{i}"),
                    &[
                        (&phone, "Phone", &format!("+34 600 000 {round}{i:02}")),
                        (&mail, "Email", &email),
                    ],
                    at + 2,
                );
                assert_eq!(app.post_clickup(&task).await.status(), 200);
            }
        }
    };
    let moves = async {
        for i in 0..N {
            let (status, body) = app.move_record("clickup", &format!("task:t{i}"), "new").await;
            assert_eq!(status, StatusCode::OK, "task {i}: {body}");
        }
    };
    tokio::join!(events, moves);
    // A ClickUp request is one event whatever its history items; a HubSpot one, one per item.
    let expected = (2 * N + 3 * N * ROUNDS) as u64;
    eventually("every event applied", || async {
        let inbox = app.inbox().await;
        inbox.len() as u64 == expected
            && inbox
                .iter()
                .all(|e| e.status == entity::inbox_events::InboxStatus::Processed)
    })
    .await;
    for i in 0..N {
        let contact = app
            .client_of(&format!("contact:{}", 100 + i))
            .await
            .expect("contact linked");
        let task = app.client_of(&format!("task:t{i}")).await.expect("task linked");
        assert_ne!(contact, task, "task {i} stays where the steward put it");
    }
    assert_eq!(app.clients().await.len(), 2 * N as usize);
    assert!(app.open_conflicts("key_collision").await.is_empty());
}

async fn a_record_said_to_be_no_match_stays_apart_through_a_full_backfill(backend: Backend) {
    use clientsync::backfill::{Backfill, Scope, Since};
    let SimApp { app, sim, config } = spawn_app_with_sim(backend).await;
    let db = app.db.clone();
    let backfill = || {
        Backfill::new(
            db.clone(),
            config.matching.matching().expect("matching"),
            config.mapping.field_mapping().expect("mapping"),
            clientsync::saas::Apis::from_config(&config).expect("API clients"),
            config.clickup.list_ids.clone(),
        )
    };
    let list = sim.clickup_list_id();
    sim.create_task(&list, "Firm A", &[("Tax ID", "12345678Z")])
        .expect("task A");
    sim.create_contact(&[("email", "b@example.com")]);
    let c = sim
        .create_task(
            &list,
            "Firm C",
            &[("Tax ID", "12345678Z"), ("Email", "b@example.com")],
        )
        .expect("task C");
    let cancel = tokio_util::sync::CancellationToken::new();
    backfill()
        .run(Scope::All, Since::Everything, &cancel)
        .await
        .expect("backfill");
    let token = app.add_operator("alice", entity::operators::Role::Steward).await;
    let app = OperatedApp { app, token };
    let collisions = app.open_conflicts("key_collision").await;
    assert_eq!(collisions.len(), 1, "{collisions:?}");
    let (status, body) = app
        .resolve(
            collisions[0]["id"].as_str().expect("id"),
            json!({"action": "not_a_match"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let own = app.client_of(&format!("task:{c}")).await.expect("its own client");

    // The task changes at the source and everything is read again: it stays apart.
    sim.set_field(&c, "Last name", "Ruiz").expect("edit");
    backfill()
        .run(Scope::All, Since::Everything, &cancel)
        .await
        .expect("second backfill");
    assert_eq!(app.client_of(&format!("task:{c}")).await, Some(own));
    assert_eq!(app.clients().await.len(), 3);
    assert!(app.open_conflicts("key_collision").await.is_empty());
}
