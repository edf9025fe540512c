//! Undo restores the before state an operator change's audit row recorded, once, writing its
//! own audit row; it refuses when the state changed since (409) or the change is not undoable (422).

use entity::{audit_log, conflicts, match_exclusions};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::{
    acting::key_collision,
    helpers::{Backend, clickup_task_update, now_ms},
    operator::{OperatedApp, operator_app, phones_disagree},
};

on_both_backends!(
    undoing_a_move_puts_the_record_back_and_a_second_undo_is_refused,
    undoing_a_move_after_the_record_moved_again_is_refused_and_changes_nothing,
    undoing_a_field_resolution_clears_its_pin_and_reopens_the_conflict,
    undoing_an_unpin_pins_the_value_again,
    a_change_that_cannot_be_undone_gets_422,
    undoing_not_a_match_reopens_the_conflict_and_forgets_the_verdict,
    undoing_a_link_reopens_the_conflict_and_unlinks_the_record,
    undoing_a_move_back_restores_the_client_it_emptied_and_the_verdicts_it_forgot,
    undoing_a_link_that_emptied_the_records_client_brings_that_client_back,
);

impl OperatedApp {
    async fn newest_audit(&self, action: &str) -> audit_log::Model {
        audit_log::Entity::find()
            .all(&self.db)
            .await
            .expect("audit")
            .into_iter()
            .filter(|r| r.action == action)
            .max_by_key(|r| r.id)
            .expect("an audit row")
    }

    async fn undo(&self, audit: uuid::Uuid) -> (StatusCode, Value) {
        let path = format!("/api/v1/audit/{audit}/undo");
        self.operator_send(Method::POST, &path, Some(json!({"reason": "my mistake"})))
            .await
    }

    async fn task_client(&self) -> Option<uuid::Uuid> {
        self.source_records()
            .await
            .into_iter()
            .find(|r| r.external_id == "task:t1")
            .and_then(|r| r.client_id)
    }

    /// Task t9, "Ana Romero", could be either of two Anas: its ambiguous_match conflict's id
    /// and the client it offers first.
    async fn ana_romero_doubts_between_two_anas(&self) -> (String, Value) {
        let t = now_ms() - 60_000;
        self.post_two_anas_sharing_an_office_line(t).await;
        let task = clickup_task_update(
            "t9",
            &[("h1", "name", "Ana Romero"), ("h2", "Phone", "911000111")],
            t + 10,
        );
        assert_eq!(self.post_clickup(&task).await.status(), 200);
        self.drain_worker().await;
        let ambiguous = self.open_conflicts("ambiguous_match").await;
        let id = ambiguous[0]["id"].as_str().expect("id").to_owned();
        (id, ambiguous[0]["candidates"][0]["client_id"].clone())
    }

    async fn split_task(&self) {
        let path = "/api/v1/records/clickup/task:t1/move";
        let (status, body) = self
            .operator_send(Method::POST, path, Some(json!({"to": "new"})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

async fn undoing_a_move_puts_the_record_back_and_a_second_undo_is_refused(backend: Backend) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    phones_disagree(&app, t).await;
    let shared = app.task_client().await.expect("linked");
    app.split_task().await;
    let moved = app.newest_audit("record.move").await;

    let (status, body) = app.undo(moved.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.task_client().await, Some(shared));
    assert_eq!(app.clients().await.len(), 1, "the split-off client is gone again");
    let undo = app.newest_audit("audit.undo").await;
    assert_eq!(undo.undoes, Some(moved.id));
    assert_eq!(undo.reason.as_deref(), Some("my mistake"));
    assert_eq!(body["audit_id"], undo.id.to_string());
    let placed = app
        .source_records()
        .await
        .into_iter()
        .find(|r| r.external_id == "task:t1")
        .and_then(|r| r.placed_by);
    assert_eq!(placed, None, "handed back to the engine, as before the move");
    assert_eq!(
        app.open_conflicts("field_mismatch").await.len(),
        1,
        "the phones differ again"
    );

    let (status, body) = app.undo(moved.id).await;
    assert_eq!(status, StatusCode::CONFLICT, "undone once: {body}");
}

async fn undoing_a_move_after_the_record_moved_again_is_refused_and_changes_nothing(backend: Backend) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 60_000).await;
    app.split_task().await;
    let first = app.newest_audit("record.move").await;
    app.split_task().await;
    let now_on = app.task_client().await;
    let audits = audit_log::Entity::find().all(&app.db).await.expect("audit").len();

    let (status, body) = app.undo(first.id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "conflict");
    assert_eq!(app.task_client().await, now_on);
    assert_eq!(
        audit_log::Entity::find().all(&app.db).await.expect("audit").len(),
        audits
    );
}

async fn undoing_a_field_resolution_clears_its_pin_and_reopens_the_conflict(backend: Backend) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 60_000).await;
    let conflict = app.open_conflicts("field_mismatch").await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = app.resolve(&conflict, json!({"action": "accept_clickup"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.clients().await[0].phone.as_deref(), Some("+34622222222"));
    let resolved = app.newest_audit("conflict.resolve").await;

    let (status, body) = app.undo(resolved.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.clients().await[0].phone.as_deref(),
        Some("+34611111111"),
        "HubSpot's again"
    );
    let open = app.open_conflicts("field_mismatch").await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["id"], conflict, "the same conflict, open again");
    assert!(app.provenance().await.iter().all(|p| !p.pinned));
}

async fn undoing_an_unpin_pins_the_value_again(backend: Backend) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    phones_disagree(&app, t).await;
    let conflict = app.open_conflicts("field_mismatch").await[0].clone();
    let (status, _) = app
        .resolve(
            conflict["id"].as_str().expect("id"),
            json!({"action": "accept_clickup"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let client = conflict["client_id"].as_str().expect("client");
    let (status, _) = app
        .operator_send(
            Method::DELETE,
            &format!("/api/v1/clients/{client}/pins/phone"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.clients().await[0].phone.as_deref(), Some("+34611111111"));
    let unpinned = app.newest_audit("client.unpin").await;

    let (status, body) = app.undo(unpinned.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.clients().await[0].phone.as_deref(), Some("+34622222222"));
    // Pinned: a later ClickUp change does not move it either.
    let task = clickup_task_update("t1", &[("h9", "Phone", "+34 699 999 999")], t + 30);
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.clients().await[0].phone.as_deref(), Some("+34622222222"));
}

async fn a_change_that_cannot_be_undone_gets_422(backend: Backend) {
    let app = operator_app(backend).await;
    let added = app.newest_audit("operator.add").await;
    let (status, body) = app.undo(added.id).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app.undo(uuid::Uuid::now_v7()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = app
        .client
        .post(format!("{}/api/v1/audit/not-a-uuid/undo", app.address))
        .bearer_auth(&app.token)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

async fn undoing_not_a_match_reopens_the_conflict_and_forgets_the_verdict(backend: Backend) {
    let app = operator_app(backend).await;
    let conflict = key_collision(&app, now_ms() - 60_000).await;
    let id = conflict["id"].as_str().expect("id").to_owned();
    let (status, _) = app.resolve(&id, json!({"action": "not_a_match"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.clients().await.len(), 3);
    let resolved = app.newest_audit("conflict.resolve").await;

    let (status, body) = app.undo(resolved.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let open = app.open_conflicts("key_collision").await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["id"], id.as_str(), "the same conflict, open again");
    assert_eq!(app.clients().await.len(), 2, "the client made for it is gone");
    let record = app
        .source_records()
        .await
        .into_iter()
        .find(|r| r.external_id == "task:t-c")
        .expect("record");
    assert_eq!(record.client_id, None, "on no client, as before");
    assert_eq!(
        match_exclusions::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        0,
        "the verdict is forgotten"
    );
}

async fn undoing_a_link_reopens_the_conflict_and_unlinks_the_record(backend: Backend) {
    let app = operator_app(backend).await;
    let (id, chosen) = app.ana_romero_doubts_between_two_anas().await;
    let (status, _) = app
        .resolve(&id, json!({"action": "link", "client_id": chosen}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let linked = app.newest_audit("conflict.resolve").await;

    let (status, body) = app.undo(linked.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.open_conflicts("ambiguous_match").await.len(), 1);
    let record = app
        .source_records()
        .await
        .into_iter()
        .find(|r| r.external_id == "task:t9")
        .expect("record");
    assert_eq!(record.client_id, None);
    assert_eq!(app.clients().await.len(), 2, "both Anas stand");
}

async fn undoing_a_move_back_restores_the_client_it_emptied_and_the_verdicts_it_forgot(backend: Backend) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 60_000).await;
    let shared = app.task_client().await.expect("linked");
    app.split_task().await;
    let own = app.task_client().await.expect("split off");
    let verdicts = || async {
        match_exclusions::Entity::find()
            .count(&app.db)
            .await
            .expect("count")
    };
    assert_eq!(
        verdicts().await,
        2,
        "the split told the task apart from the contact, both ways"
    );
    let path = "/api/v1/records/clickup/task:t1/move";
    let (status, body) = app
        .operator_send(Method::POST, path, Some(json!({"to": shared.to_string()})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(verdicts().await, 0, "put back together, the verdict is forgotten");
    assert_eq!(
        app.clients().await.len(),
        1,
        "the split-off client held nothing and went"
    );
    let back = app.newest_audit("record.move").await;

    let (status, body) = app.undo(back.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.task_client().await,
        Some(own),
        "on the client it left, under its id"
    );
    assert_eq!(app.clients().await.len(), 2);
    assert_eq!(verdicts().await, 2, "told apart again, as before the move");
    let restored = app
        .clients()
        .await
        .into_iter()
        .find(|c| c.id == own)
        .expect("restored");
    assert_eq!(
        restored.phone.as_deref(),
        Some("+34622222222"),
        "re-derived from its record"
    );
}

async fn undoing_a_link_that_emptied_the_records_client_brings_that_client_back(backend: Backend) {
    let app = operator_app(backend).await;
    let (id, chosen) = app.ana_romero_doubts_between_two_anas().await;
    let path = "/api/v1/records/clickup/task:t9/move";
    let (status, body) = app
        .operator_send(Method::POST, path, Some(json!({"to": "new"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let own = app.client_of("task:t9").await.expect("a client of its own");
    // The state a link finds when the record sits alone on a client and its conflict is open
    // (the move closed it; opened again here rather than through a longer story).
    let row = conflicts::Entity::find_by_id(id.parse::<uuid::Uuid>().expect("uuid"))
        .one(&app.db)
        .await
        .expect("conflict")
        .expect("row");
    let mut open: conflicts::ActiveModel = row.into();
    open.status = Set(conflicts::ConflictStatus::Open);
    open.update(&app.db).await.expect("reopen");
    let (status, body) = app
        .resolve(&id, json!({"action": "link", "client_id": chosen}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.clients().await.len(),
        2,
        "the record's own client held nothing and went"
    );
    let linked = app.newest_audit("conflict.resolve").await;

    let (status, body) = app.undo(linked.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.client_of("task:t9").await,
        Some(own),
        "back on its own client, under its id"
    );
    assert_eq!(app.clients().await.len(), 3);
    assert_eq!(app.open_conflicts("ambiguous_match").await.len(), 1);
}
