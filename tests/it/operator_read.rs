//! What operators read: client search (exact keys and folded, prefix and fuzzy names), the
//! client view with each source's values, the timeline, conflict detail and the counters,
//! through the API and through the CLI binary.

use std::process::{Command, Output};

use chrono::Utc;
use entity::{client_search, conflicts::ConflictStatus, inbox_events, outbox};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, clickup_task_update, hubspot_property, now_ms},
    operator::{OperatedApp, operator_app, phones_disagree},
};

on_both_backends!(
    clients_are_found_by_each_key_and_by_folded_prefix_and_misspelt_names,
    a_name_search_pages_through_every_hit_once_best_first,
    clients_written_before_the_search_index_existed_are_indexed_at_start,
    the_client_view_shows_each_sources_own_values_beside_the_golden_one_and_open_conflicts,
    a_key_collision_shows_the_values_that_collided_and_the_records_and_clients_on_each_side,
    an_ambiguous_match_shows_each_candidate_beside_the_record_field_by_field,
    the_timeline_tells_events_decisions_values_and_operator_actions_in_time_order_a_page_at_a_time,
    the_timeline_shows_what_each_field_was_before_and_which_event_or_operator_changed_it,
    the_timeline_of_a_client_keeps_the_history_of_the_client_a_key_folded_into_it,
    the_counters_are_computed_from_stored_rows,
    the_cli_searches_shows_and_resolves_and_the_resolution_is_audited_as_the_cli,
);

async fn get(app: &OperatedApp, path: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn ok(app: &OperatedApp, path: &str) -> Value {
    let (status, body) = get(app, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|hit| {
                    let c = &hit["client"];
                    format!(
                        "{} {}",
                        c["given_name"].as_str().unwrap_or(""),
                        c["family_name"].as_str().unwrap_or("")
                    )
                    .trim()
                    .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Four HubSpot contacts whose names need folding, one with a phone, and a ClickUp task
/// carrying Zoë's document key.
async fn international_people(app: &TestApp, t: i64) {
    let people = [
        (101, "Søren", "Kierkegaard", "soren@example.dk"),
        (102, "Łukasz", "Nowak", "lukasz@example.pl"),
        (103, "Anna", "Straße", "anna@example.de"),
        (104, "Zoë", "Kravitz", "zoe@example.com"),
    ];
    let mut events = Vec::new();
    for (i, (id, given, family, email)) in people.iter().enumerate() {
        let at = t + 10 * i as i64;
        events.push(hubspot_property(*id, "email", email, at));
        events.push(hubspot_property(*id, "firstname", given, at + 1));
        events.push(hubspot_property(*id, "lastname", family, at + 2));
    }
    events.push(hubspot_property(101, "phone", "+45 31 12 34 56", t + 100));
    assert_eq!(app.post_hubspot(&json!(events)).await.status(), 200);
    let task = clickup_task_update(
        "zk1",
        &[
            ("zk-h1", "Email", "zoe@example.com"),
            ("zk-h2", "Tax ID", "12345678Z"),
        ],
        t + 200,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
}

async fn clients_are_found_by_each_key_and_by_folded_prefix_and_misspelt_names(backend: Backend) {
    let app = operator_app(backend).await;
    international_people(&app, now_ms() - 60_000).await;

    for (q, by, who, matched) in [
        ("soren", "name", "Søren Kierkegaard", "exact"),
        ("SØR kier", "name", "Søren Kierkegaard", "prefix"),
        ("Lukasz", "name", "Łukasz Nowak", "exact"),
        ("strasse", "name", "Anna Straße", "exact"),
        ("Zoe", "name", "Zoë Kravitz", "exact"),
        ("Soren@Example.DK", "email", "Søren Kierkegaard", "exact"),
        ("12.345.678-z", "document", "Zoë Kravitz", "exact"),
        ("+4531123456", "phone", "Søren Kierkegaard", "exact"),
        ("102", "external_id", "Łukasz Nowak", "exact"),
        ("task:zk1", "external_id", "Zoë Kravitz", "exact"),
    ] {
        let page = ok(&app, &format!("/api/v1/clients?q={}", urlencoding(q))).await;
        assert_eq!(page["by"], by, "guessed for {q}: {page}");
        assert_eq!(names(&page), [who], "{q}: {page}");
        assert_eq!(page["items"][0]["matched"], matched, "{q}: {page}");
    }
    // A misspelling is found by sound and spelling, ranked below nothing else here.
    let page = ok(&app, "/api/v1/clients?by=name&q=Kirkegard").await;
    assert_eq!(names(&page), ["Søren Kierkegaard"], "{page}");
    assert_eq!(page["items"][0]["matched"], "fuzzy");
    assert!(page["items"][0]["score"].as_f64().unwrap_or(1.0) < 1.0);
    // Someone nobody holds is nobody, whatever the reading.
    assert_eq!(names(&ok(&app, "/api/v1/clients?q=Wittgenstein").await).len(), 0);

    for bad in [
        "/api/v1/clients",
        "/api/v1/clients?q=",
        "/api/v1/clients?q=x&by=shoe_size",
        "/api/v1/clients?q=not-an-email&by=email",
        "/api/v1/clients?q=ana&after=zzz",
    ] {
        let (status, body) = get(&app, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["code"], "bad_request", "{bad}: {body}");
    }
}

fn urlencoding(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn a_name_search_pages_through_every_hit_once_best_first(backend: Backend) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    let families = [
        "Marín",
        "Martín",
        "Martínez",
        "Marte",
        "Mart",
        "Martos",
        "Martorell",
    ];
    let events: Vec<Value> = families
        .iter()
        .enumerate()
        .flat_map(|(i, family)| {
            let id = i as i64 + 10;
            let at = t + 10 * i as i64;
            [
                hubspot_property(id, "email", &format!("p{id}@example.com"), at),
                hubspot_property(id, "lastname", family, at + 1),
            ]
        })
        .collect();
    assert_eq!(app.post_hubspot(&json!(events)).await.status(), 200);
    app.drain_worker().await;

    let whole = ok(&app, "/api/v1/clients?by=name&q=mart&limit=100").await;
    let all = names(&whole);
    assert_eq!(all.len(), 6, "every Mart… and no Marín: {all:?}");
    assert_eq!(all[0], "Mart", "the whole word first: {all:?}");
    let scores: Vec<f64> = whole["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| h["score"].as_f64().expect("score"))
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    let mut paged = Vec::new();
    let mut path = "/api/v1/clients?by=name&q=mart&limit=2".to_owned();
    loop {
        let page = ok(&app, &path).await;
        paged.extend(names(&page));
        match page["next_after"].as_str() {
            Some(next) => path = format!("/api/v1/clients?by=name&q=mart&limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(paged, all, "pages join up to the whole list");
}

async fn clients_written_before_the_search_index_existed_are_indexed_at_start(backend: Backend) {
    let app = operator_app(backend).await;
    international_people(&app, now_ms() - 60_000).await;
    client_search::Entity::delete_many()
        .exec(&app.db)
        .await
        .expect("forget the index");
    assert!(names(&ok(&app, "/api/v1/clients?by=name&q=soren").await).is_empty());

    clientsync::store::migrate(&app.db).await.expect("start-up");

    assert_eq!(
        names(&ok(&app, "/api/v1/clients?by=name&q=soren").await),
        ["Søren Kierkegaard"]
    );
    let terms = client_search::Entity::find().count(&app.db).await.expect("count");
    clientsync::store::migrate(&app.db).await.expect("start-up again");
    assert_eq!(
        client_search::Entity::find().count(&app.db).await.expect("count"),
        terms,
        "a second start adds nothing"
    );
}

async fn the_client_view_shows_each_sources_own_values_beside_the_golden_one_and_open_conflicts(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 60_000).await;
    let client = app.clients().await[0].id;

    let view = ok(&app, &format!("/api/v1/clients/{client}")).await;
    assert_eq!(view["fields"]["phone"]["value"], "+34611111111", "{view}");
    assert_eq!(view["fields"]["phone"]["source"], "hubspot");
    assert_eq!(view["fields"]["phone"]["pinned"], false);
    let records = view["records"].as_array().expect("records");
    assert_eq!(records.len(), 2, "{view}");
    let phone_of = |source: &str| {
        records
            .iter()
            .find(|r| r["source"] == source)
            .map(|r| r["values"]["phone"]["value"].clone())
    };
    assert_eq!(phone_of("hubspot"), Some(json!("+34611111111")));
    assert_eq!(
        phone_of("clickup"),
        Some(json!("+34622222222")),
        "the value HubSpot beat"
    );
    let open = view["open_conflicts"].as_array().expect("conflicts");
    assert_eq!(open.len(), 1, "{view}");
    assert_eq!(open[0]["kind"], "field_mismatch");
    assert_eq!(open[0]["field"], "phone");

    let (status, body) = get(&app, &format!("/api/v1/clients/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
}

async fn a_key_collision_shows_the_values_that_collided_and_the_records_and_clients_on_each_side(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    let a = clickup_task_update("t-a", &[("h1", "Tax ID", "12345678Z")], t);
    let b = json!([hubspot_property(1, "email", "b@example.com", t)]);
    app.post_clickup(&a).await;
    app.post_hubspot(&b).await;
    app.drain_worker().await;
    let both = clickup_task_update(
        "t-c",
        &[("h2", "Tax ID", "12345678-Z"), ("h3", "Email", "B@example.com")],
        t + 5,
    );
    app.post_clickup(&both).await;
    app.drain_worker().await;
    let conflict = app.conflicts().await.into_iter().next().expect("a collision");

    let shown = ok(&app, &format!("/api/v1/conflicts/{}", conflict.id)).await;
    assert_eq!(shown["kind"], "key_collision", "{shown}");
    assert_eq!(shown["record"]["external_id"], "task:t-c");
    assert_eq!(shown["record"]["email"], "b@example.com");
    assert_eq!(shown["record"]["document_key"], "12345678Z");
    let sides = shown["colliding"].as_array().expect("sides");
    assert_eq!(sides.len(), 2, "{shown}");
    let side_holding = |external: &str| {
        sides
            .iter()
            .find(|s| {
                s["records"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["external_id"] == external))
            })
            .cloned()
            .unwrap_or(Value::Null)
    };
    let by_document = side_holding("task:t-a");
    let by_email = side_holding("contact:1");
    let key = |side: &Value, field: &str| {
        side["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["field"] == field).cloned())
            .unwrap_or(Value::Null)
    };
    assert_eq!(key(&by_document, "document_key")["same"], true, "{by_document}");
    assert_eq!(key(&by_document, "email")["same"], false);
    assert_eq!(
        key(&by_email, "email")["client_value"],
        "b@example.com",
        "{by_email}"
    );
    assert_eq!(key(&by_email, "email")["same"], true);
    assert_eq!(key(&by_email, "document_key")["same"], false);
    assert!(
        shown["candidates_side_by_side"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}

async fn an_ambiguous_match_shows_each_candidate_beside_the_record_field_by_field(backend: Backend) {
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
    let conflict = app.conflicts().await.into_iter().next().expect("ambiguous");

    let shown = ok(&app, &format!("/api/v1/conflicts/{}", conflict.id)).await;
    assert_eq!(shown["kind"], "ambiguous_match", "{shown}");
    let candidates = shown["candidates_side_by_side"].as_array().expect("candidates");
    assert_eq!(candidates.len(), 2, "{shown}");
    for candidate in candidates {
        assert_eq!(candidate["exists"], true);
        assert_eq!(candidate["name"], "Ana Romero", "{candidate}");
        let fields = candidate["fields"].as_array().expect("fields");
        let phone = fields
            .iter()
            .find(|f| f["field"] == "phone")
            .expect("phone compared");
        assert_eq!(phone["level"], "exact", "{phone}");
        assert_eq!(phone["record_value"], "911000111", "ClickUp's, national");
        assert_eq!(phone["client_value"], "+34911000111");
        for f in fields {
            let bits = f["bits"].as_f64().expect("bits");
            assert!(
                ((bits * 10.0).round() - bits * 10.0).abs() < 1e-9,
                "to 0.1: {bits}"
            );
            assert!(
                ["exact", "one edit", "similar", "weak", "different", "missing"]
                    .contains(&f["level"].as_str().unwrap_or("")),
                "{f}"
            );
        }
        assert!(candidate["probability_then"].as_f64().is_some(), "{candidate}");
    }
    assert!(shown["colliding"].as_array().is_some_and(Vec::is_empty));
}

async fn the_timeline_tells_events_decisions_values_and_operator_actions_in_time_order_a_page_at_a_time(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 60_000).await;
    let conflict = app.conflicts().await[0].clone();
    let client = conflict.client_id.expect("client");
    let resolved = app
        .client
        .post(format!(
            "{}/api/v1/conflicts/{}/resolve",
            app.address, conflict.id
        ))
        .bearer_auth(&app.token)
        .json(&json!({"action": "accept_clickup"}))
        .send()
        .await
        .expect("resolve");
    assert_eq!(resolved.status(), StatusCode::OK);

    let whole = ok(&app, &format!("/api/v1/clients/{client}/timeline?limit=500")).await;
    let items = whole["items"].as_array().expect("items").clone();
    let kinds: Vec<&str> = items.iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["event", "decision", "field", "operator"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert_eq!(
        kinds.iter().filter(|k| **k == "event").count(),
        app.inbox().await.len(),
        "every event of its two records"
    );
    let at: Vec<&str> = items.iter().filter_map(|e| e["at"].as_str()).collect();
    let parsed: Vec<chrono::DateTime<Utc>> = at.iter().map(|a| a.parse().expect("time")).collect();
    assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "in time order: {at:?}");
    let operator = items.iter().find(|e| e["kind"] == "operator").expect("operator");
    assert_eq!(operator["what"], "conflict.resolve");
    assert!(
        operator["summary"].as_str().unwrap_or("").contains("alice"),
        "{operator}"
    );
    let phone = items
        .iter()
        .rfind(|e| e["kind"] == "field" && e["what"] == "phone")
        .expect("phone");
    assert_eq!(phone["detail"]["pinned"], true, "{phone}");

    let mut paged = Vec::new();
    let mut path = format!("/api/v1/clients/{client}/timeline?limit=3");
    loop {
        let page = ok(&app, &path).await;
        paged.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|e| e["id"].clone()),
        );
        match page["next_after"].as_str() {
            Some(next) => {
                path = format!(
                    "/api/v1/clients/{client}/timeline?limit=3&after={}",
                    urlencoding(next)
                )
            }
            None => break,
        }
    }
    let ids: Vec<Value> = items.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(paged, ids, "pages join up to the whole timeline");
}

async fn the_timeline_shows_what_each_field_was_before_and_which_event_or_operator_changed_it(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    phones_disagree(&app, t).await;
    for (value, at) in [("Eva", t + 10), ("Eva María", t + 20)] {
        let named = json!([hubspot_property(1, "firstname", value, at)]);
        assert_eq!(app.post_hubspot(&named).await.status(), 200);
        app.drain_worker().await;
    }
    let conflict = app
        .conflicts()
        .await
        .into_iter()
        .find(|c| c.field.as_deref() == Some("phone") && c.status == ConflictStatus::Open)
        .expect("the phone mismatch");
    let client = conflict.client_id.expect("client");
    let (status, body) = app
        .resolve(&conflict.id.to_string(), json!({"action": "accept_clickup"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let whole = ok(&app, &format!("/api/v1/clients/{client}/timeline?limit=500")).await;
    let changes = |field: &str| -> Vec<Value> {
        whole["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|e| e["kind"] == "field" && e["what"] == field)
            .map(|e| e["detail"].clone())
            .collect()
    };
    let given = changes("given_name");
    let values: Vec<(&Value, &Value)> = given.iter().map(|d| (&d["before"], &d["value"])).collect();
    assert_eq!(
        values,
        vec![
            (&Value::Null, &json!("Eva")),
            (&json!("Eva"), &json!("Eva María"))
        ],
        "every value the name had, oldest first: {given:?}"
    );
    assert_eq!(given[1]["source"], "hubspot");
    assert!(
        given[1]["event_id"]
            .as_str()
            .is_some_and(|e| e.ends_with(&format!(":{}", t + 20))),
        "the second event set it: {given:?}"
    );
    assert_eq!(
        given[1]["cause"], given[1]["event_id"],
        "the event itself made the change"
    );
    let phone = changes("phone");
    let pinned = phone.last().expect("a phone change");
    assert_eq!(pinned["before"], "+34611111111", "{phone:?}");
    assert_eq!(pinned["value"], "+34622222222", "{phone:?}");
    assert_eq!(pinned["source"], "operator");
    assert_eq!(pinned["cause"], "operator:alice", "{pinned}");
}

async fn the_timeline_of_a_client_keeps_the_history_of_the_client_a_key_folded_into_it(backend: Backend) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    // The contact founds one client by email, the task another by tax id...
    let contact = json!([
        hubspot_property(1, "email", "ana@example.com", t),
        hubspot_property(1, "firstname", "Ana", t + 1),
    ]);
    assert_eq!(app.post_hubspot(&contact).await.status(), 200);
    let task = clickup_task_update("t1", &[("h1", "Tax ID", "12345678Z")], t + 2);
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
    let before: Vec<_> = app.clients().await.into_iter().map(|c| c.id).collect();
    assert_eq!(before.len(), 2, "two clients until a key joins them");
    // ...until the contact's tax id proves them one person, and one of them is gone.
    let key = json!([hubspot_property(1, "tax_id", "12345678Z", t + 3)]);
    assert_eq!(app.post_hubspot(&key).await.status(), 200);
    app.drain_worker().await;
    let survivor = app.clients().await;
    assert_eq!(survivor.len(), 1, "{survivor:?}");
    let survivor = survivor[0].id;
    let gone = *before
        .iter()
        .find(|id| **id != survivor)
        .expect("the folded client");

    let whole = ok(&app, &format!("/api/v1/clients/{survivor}/timeline?limit=500")).await;
    let folded: Vec<&Value> = whole["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["kind"] == "field" && e["detail"]["client_id"] == json!(gone))
        .collect();
    assert!(
        !folded.is_empty(),
        "the folded client's field changes are on the survivor's timeline: {whole}"
    );
    assert!(
        folded.iter().all(|e| e["summary"]
            .as_str()
            .is_some_and(|s| s.contains(&format!("on client {gone}, since merged into this one")))),
        "each says which client it happened on: {folded:?}"
    );
}

async fn the_counters_are_computed_from_stored_rows(backend: Backend) {
    let app = operator_app(backend).await;
    let empty = ok(&app, "/api/v1/stats").await;
    assert_eq!(empty["open_conflicts"]["total"], 0, "{empty}");
    assert_eq!(empty["events_today"], 0);
    assert!(empty["oldest_unprocessed"].is_null());
    assert_eq!(empty["queued_events"], 0, "{empty}");
    let waiting = json!([hubspot_property(9, "email", "zoe@example.com", now_ms() - 70_000)]);
    assert_eq!(app.post_hubspot(&waiting).await.status(), 200);
    let queued = ok(&app, "/api/v1/stats").await;
    assert_eq!(
        queued["queued_events"], 1,
        "the queue's backlog, from the broker on RabbitMQ: {queued}"
    );

    phones_disagree(&app, now_ms() - 60_000).await;
    let long_ago = Utc::now() - chrono::Duration::hours(3);
    let inbox_row = |id: &str, status| inbox_events::ActiveModel {
        id: Set(id.to_owned()),
        source: Set("hubspot".into()),
        event_type: Set("contact.creation".into()),
        object_id: Set("77".into()),
        occurred_at_ms: Set(long_ago.timestamp_millis()),
        received_at: Set(long_ago),
        payload: Set(json!({})),
        status: Set(status),
        attempts: Set(3),
        last_error: Set(Some("refused".into())),
        updated_at: Set(long_ago),
        payload_pruned_at: Set(None),
    };
    inbox_row("hubspot:dead:1", inbox_events::InboxStatus::Dead)
        .insert(&app.db)
        .await
        .expect("dead event");
    inbox_row("hubspot:waiting:1", inbox_events::InboxStatus::PendingEnrichment)
        .insert(&app.db)
        .await
        .expect("waiting event");
    outbox::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        subject: Set(outbox::OutboxSubject::Client),
        client_id: Set(Some(app.clients().await[0].id)),
        project_id: Set(None),
        source: Set("hubspot".into()),
        external_id: Set("contact:1".into()),
        kind: Set("contact".into()),
        field: Set("phone".into()),
        value: Set("+34622222222".into()),
        status: Set(outbox::OutboxStatus::Failed),
        pending_key: Set(None),
        attempts: Set(5),
        next_attempt_at: Set(Utc::now()),
        last_error: Set(Some("403".into())),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await
    .expect("failed write-back");

    let stats = ok(&app, "/api/v1/stats").await;
    assert_eq!(stats["open_conflicts"]["field_mismatch"], 1, "{stats}");
    assert_eq!(stats["open_conflicts"]["ambiguous_match"], 0);
    assert_eq!(stats["open_conflicts"]["total"], 1);
    assert_eq!(stats["dead_events"], 1);
    assert_eq!(stats["failed_writebacks"], 1);
    let age = stats["oldest_unprocessed"]["age_seconds"].as_i64().expect("age");
    assert!((3 * 3600 - 60..3 * 3600 + 60).contains(&age), "{stats}");
    let received_today = app
        .inbox()
        .await
        .iter()
        .filter(|e| e.received_at.date_naive() == Utc::now().date_naive())
        .count();
    assert_eq!(stats["events_today"], received_today as u64, "{stats}");
}

fn cli(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .args(args)
        .env("CLIENTSYNC_DATABASE__URL", &app.database_url)
        .env("CLIENTSYNC_TELEMETRY__FILTER", "warn")
        .env("USER", "ops-tester")
        .output()
        .expect("clientsync runs")
}

fn stdout_of(output: &Output) -> String {
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

async fn the_cli_searches_shows_and_resolves_and_the_resolution_is_audited_as_the_cli(backend: Backend) {
    let app = operator_app(backend).await;
    international_people(&app, now_ms() - 120_000).await;
    phones_disagree(&app, now_ms() - 60_000).await;

    let found: Value =
        serde_json::from_str(&stdout_of(&cli(&app, &["clients", "search", "lukasz", "--json"])))
            .expect("json");
    assert_eq!(names(&found), ["Łukasz Nowak"]);
    let table = stdout_of(&cli(&app, &["clients", "search", "Łuk"]));
    assert!(
        table.contains("Łukasz Nowak") && table.contains("prefix"),
        "{table}"
    );

    let eva = app
        .clients()
        .await
        .into_iter()
        .find(|c| c.email.as_deref() == Some("eva@example.com"))
        .expect("eva");
    let shown = stdout_of(&cli(&app, &["clients", "show", &eva.id.to_string()]));
    assert!(
        shown.contains("+34622222222") && shown.contains("field_mismatch"),
        "{shown}"
    );
    let timeline = stdout_of(&cli(&app, &["clients", "timeline", &eva.id.to_string()]));
    assert!(
        timeline.contains("decision") && timeline.contains("event"),
        "{timeline}"
    );

    let listed = stdout_of(&cli(&app, &["conflicts", "list", "--kind", "field_mismatch"]));
    let conflict = listed.split('\t').next().expect("an id").trim().to_owned();
    let detail: Value = serde_json::from_str(&stdout_of(&cli(
        &app,
        &["conflicts", "show", &conflict, "--json"],
    )))
    .expect("json");
    assert_eq!(detail["field"], "phone", "{detail}");

    let refused = cli(&app, &["conflicts", "resolve", &conflict, "link"]);
    assert_eq!(refused.status.code(), Some(1), "link needs --client");
    let resolved = stdout_of(&cli(&app, &["conflicts", "resolve", &conflict, "accept_clickup"]));
    assert!(resolved.contains("cli:ops-tester"), "{resolved}");
    let again = cli(&app, &["conflicts", "resolve", &conflict, "accept_clickup"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already resolved"));

    let audit = stdout_of(&cli(&app, &["audit", "--target-kind", "conflict"]));
    let rows: Vec<&str> = audit.lines().collect();
    assert_eq!(rows.len(), 1, "one row for one resolution: {audit}");
    assert!(
        rows[0].contains("cli:ops-tester") && rows[0].contains("conflict.resolve"),
        "{audit}"
    );
    let view = ok(&app, &format!("/api/v1/clients/{}", eva.id)).await;
    assert_eq!(
        view["fields"]["phone"]["value"], "+34622222222",
        "the API sees the CLI's decision"
    );
}
