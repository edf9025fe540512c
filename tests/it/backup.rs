//! Backup and restore: a store moved SQLite → Postgres or Postgres → SQLite through a backup is
//! the same store, table by table and column by column; damaged backups and non-empty targets
//! are refused by name.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use clientsync::backup::{self, BackupError, tables};
use entity::{
    audit_log, backfill_cursors, bulk_jobs, client_search, clients, conflicts, decisions, field_history,
    field_provenance, import_runs, inbox_events, match_exclusions, match_keys, operator_tokens, operators,
    outbox, projects, source_records, write_log,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, IntoActiveModel,
};
use serde_json::json;

use crate::helpers::{
    Backend, TestApp, clickup_task_update, fresh_postgres_database, hubspot_property, now_ms, spawn_app,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_store_restored_on_postgres_is_the_same_store_table_by_table() {
    round_trip(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_store_restored_on_sqlite_is_the_same_store_table_by_table() {
    round_trip(Backend::Production).await;
}

on_both_backends!(
    a_restore_refuses_a_corrupted_file_naming_it,
    a_restore_refuses_a_truncated_file_naming_it,
    a_restore_into_a_database_with_rows_is_refused_naming_the_table,
);

#[tokio::test]
async fn every_table_the_migrations_create_is_backed_up_or_skipped_for_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = sqlite(dir.path(), "schema.db").await;
    clientsync::store::migrate(&db).await.expect("migrate");
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        ))
        .await
        .expect("tables");
    let mut created: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0).expect("name"))
        .collect();
    created.sort();
    let catalogue = tables::all().expect("catalogue");
    let mut listed: Vec<String> = catalogue
        .iter()
        .map(|t| t.name.to_owned())
        .chain(tables::SKIPPED.iter().map(|(name, _)| (*name).to_owned()))
        .collect();
    listed.sort();
    assert_eq!(
        created, listed,
        "every table is either backed up or skipped with a reason"
    );

    for table in &catalogue {
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!(
                    "SELECT name, \"notnull\" FROM pragma_table_info('{}') ORDER BY cid",
                    table.name
                ),
            ))
            .await
            .expect("columns");
        let mut in_db: Vec<(String, bool)> = rows
            .iter()
            .map(|r| {
                let name: String = r.try_get_by_index(0).expect("name");
                let not_null: i32 = r.try_get_by_index(1).expect("notnull");
                (name, not_null == 0)
            })
            .collect();
        in_db.sort();
        let mut backed_up: Vec<(String, bool)> = table
            .columns
            .iter()
            .map(|c| (c.name.to_owned(), c.nullable))
            .collect();
        backed_up.sort();
        assert_eq!(
            backed_up, in_db,
            "the backup of `{}` carries every column as the migrations made it",
            table.name
        );
    }
}

/// Fills a store of `from`'s backend with rows in every backed-up table, backs it up, restores
/// it on the other backend, and compares every table; then backs that up and restores it on
/// `from`'s backend again, and compares once more.
async fn round_trip(from: Backend) {
    let app = spawn_app(from).await;
    fill_every_table(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");

    let manifest = backup::backup(&app.db, &dir.path().join("first"))
        .await
        .expect("backup");
    for file in &manifest.files {
        assert!(
            file.rows > 0,
            "the fixture fills `{}`, so the comparison covers it",
            file.table
        );
    }
    assert_eq!(manifest.files.len(), tables::all().expect("catalogue").len());

    let other = match from {
        Backend::Embedded => postgres().await,
        Backend::Production => sqlite(dir.path(), "restored.db").await,
    };
    backup::restore(&other, &dir.path().join("first"))
        .await
        .expect("restore");
    assert_same_store(&app.db, &other).await;

    let again = backup::backup(&other, &dir.path().join("second"))
        .await
        .expect("second backup");
    assert_eq!(
        again.files.iter().map(|f| f.rows).collect::<Vec<_>>(),
        manifest.files.iter().map(|f| f.rows).collect::<Vec<_>>()
    );
    let back = match from {
        Backend::Embedded => sqlite(dir.path(), "back.db").await,
        Backend::Production => postgres().await,
    };
    backup::restore(&back, &dir.path().join("second"))
        .await
        .expect("restore back");
    assert_same_store(&app.db, &back).await;

    // Ids the restore inserted are behind the sequence: the service inserts new records.
    app_like_insert_of_a_source_record(&back).await;
}

async fn a_restore_refuses_a_corrupted_file_naming_it(backend: Backend) {
    assert_refused_naming(backend, "clients.avro", |mut bytes| {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        bytes
    })
    .await;
}

async fn a_restore_refuses_a_truncated_file_naming_it(backend: Backend) {
    assert_refused_naming(backend, "source_records.avro", |mut bytes| {
        bytes.truncate(bytes.len() - 10);
        bytes
    })
    .await;
}

/// Damages one file of a fresh backup; a restore must refuse it by name and write nothing.
async fn assert_refused_naming(backend: Backend, name: &str, damage: impl FnOnce(Vec<u8>) -> Vec<u8>) {
    let (_app, dir) = backed_up(backend).await;
    let path = dir.path().join(name);
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, damage(bytes)).expect("write");

    let target = sqlite(dir.path(), "target.db").await;
    let error = backup::restore(&target, dir.path()).await.expect_err("refused");
    assert!(
        matches!(&error, BackupError::Corrupt { file, .. } if file == name),
        "{error}"
    );
    assert!(error.to_string().contains(name), "{error}");
    assert_empty(&target).await;
}

async fn a_restore_into_a_database_with_rows_is_refused_naming_the_table(backend: Backend) {
    let (app, dir) = backed_up(backend).await;
    // The app's own store holds the rows the backup came from.
    let error = backup::restore(&app.db, dir.path()).await.expect_err("refused");
    assert!(
        matches!(&error, BackupError::StoreNotEmpty { table } if table == "clients"),
        "{error}"
    );
    assert!(error.to_string().contains("`clients` holds rows"), "{error}");
}

async fn backed_up(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let app = spawn_app(backend).await;
    post_two_clients(&app, now_ms()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    backup::backup(&app.db, dir.path()).await.expect("backup");
    (app, dir)
}

async fn post_two_clients(app: &TestApp, t: i64) {
    app.post_hubspot(&json!([
        hubspot_property(1, "email", "ana@example.com", t),
        hubspot_property(1, "firstname", "Ana", t + 1),
        hubspot_property(1, "lastname", "Pérez", t + 2),
        hubspot_property(2, "email", "luis@example.com", t + 3),
        hubspot_property(2, "firstname", "Luis", t + 4),
    ]))
    .await;
    app.drain_worker().await;
}

/// Rows in every backed-up table, from the service's own paths where a test can drive them
/// (webhooks, operators) and written directly where it cannot; nullable columns both filled
/// and empty, timestamps with sub-microsecond digits where the backend keeps them.
async fn fill_every_table(app: &TestApp) {
    let t = now_ms();
    post_two_clients(app, t).await;
    // A ClickUp task for Ana with another phone: a link, a decision and a field conflict.
    app.post_hubspot(&json!([hubspot_property(1, "phone", "+34 612 345 678", t + 5)]))
        .await;
    app.post_clickup(&clickup_task_update(
        "t1",
        &[
            ("h1", "name", "Ana Pérez"),
            ("h2", "Email", "ana@example.com"),
            ("h3", "Phone", "699000111"),
        ],
        t + 6,
    ))
    .await;
    app.drain_worker().await;
    app.add_operator("marta", operators::Role::Steward).await;

    let now: DateTime<Utc> = Utc::now();
    let client = app.clients().await.first().expect("a client").id;
    let db = &app.db;
    match_exclusions::Model {
        id: uuid::Uuid::new_v4(),
        source: "hubspot".into(),
        external_id: "contact:1".into(),
        other_source: "clickup".into(),
        other_external_id: "task:t9".into(),
        created_by: "marta".into(),
        created_at: now,
    }
    .into_active_model()
    .insert(db)
    .await
    .expect("exclusion");
    outbox::Model {
        id: uuid::Uuid::new_v4(),
        subject: outbox::OutboxSubject::Client,
        client_id: Some(client),
        project_id: None,
        source: "clickup".into(),
        external_id: "task:t1".into(),
        kind: "task".into(),
        field: "phone".into(),
        value: "+34612345678".into(),
        status: outbox::OutboxStatus::Failed,
        pending_key: None,
        attempts: 3,
        next_attempt_at: now + Duration::minutes(5),
        last_error: Some("429 Too Many Requests".into()),
        created_at: now,
        updated_at: now,
    }
    .into_active_model()
    .insert(db)
    .await
    .expect("outbox");
    projects::Model {
        id: uuid::Uuid::new_v4(),
        client_id: Some(client),
        clickup_task_id: "p1".into(),
        hubspot_deal_id: Some("d1".into()),
        client_task_id: Some("t1".into()),
        name: Some("Tienda online ñ".into()),
        product_type: Some("Web".into()),
        status: Some("in progress".into()),
        time_estimate_ms: Some(7_200_000),
        time_spent_ms: None,
        due_at_ms: Some(t + 86_400_000),
        payment_status: Some("Pending".into()),
        amount_cents: Some(150_050),
        clickup_values: json!({"status": {"value": "in progress", "at_ms": t, "event": "e1"}}),
        hubspot_values: json!({"amount": {"value": "150050", "at_ms": t, "event": "e2"}}),
        deleted: false,
        last_event_at_ms: t,
        created_at: now,
        updated_at: now,
    }
    .into_active_model()
    .insert(db)
    .await
    .expect("project");
    write_log::Model {
        source: "clickup".into(),
        external_id: "task:t1".into(),
        field: "email".into(),
        value: None,
        written_at: now,
    }
    .into_active_model()
    .insert(db)
    .await
    .expect("write log");
    backfill_cursors::Model {
        stream: "hubspot:contacts".into(),
        since_ms: Some(t - 86_400_000),
        position: Some("after=200".into()),
        objects: 200,
        started_at: now,
        updated_at: now,
        completed_at: None,
    }
    .into_active_model()
    .insert(db)
    .await
    .expect("cursor");
    bulk_jobs::Model {
        id: uuid::Uuid::new_v4(),
        action: "resolve".into(),
        request: json!({"filter": {"kind": "field_mismatch"}, "take": "hubspot", "ñ": [1, 2.5, null]}),
        status: bulk_jobs::BulkStatus::Finished,
        total: 10,
        done: 9,
        failed: 1,
        cancelled: false,
        last_error: None,
        created_by: "marta".into(),
        created_at: now,
        updated_at: now,
        finished_at: Some(now),
    }
    .into_active_model()
    .insert(db)
    .await
    .expect("bulk job");
    import_runs::Model {
        id: uuid::Uuid::now_v7(),
        file: "/srv/exports/contactos ñ.csv".into(),
        file_sha256: "ab".repeat(32),
        source: "csv as hubspot".into(),
        status: import_runs::ImportStatus::Finished,
        options: json!({"batch": 500, "stats": ["amount"]}),
        rows_read: 100,
        rows_loaded: 90,
        rows_rejected: 10,
        unchanged: 5,
        new_clients: 70,
        linked: 10,
        conflicts: 5,
        last_line: 101,
        stats: json!({"amount": {"count": 90, "not_numeric": 0, "min": 1.5, "max": 99.25, "sum": 4000.5}}),
        last_error: None,
        started_at: now,
        updated_at: now,
        finished_at: Some(now),
    }
    .into_active_model()
    .insert(db)
    .await
    .expect("import run");
}

/// Every backed-up table holds the same rows on both stores, every column compared; instants
/// at Postgres's precision (microseconds), the finest both backends keep.
async fn assert_same_store(a: &DatabaseConnection, b: &DatabaseConnection) {
    macro_rules! same {
        ($($table:ident),* $(,)?) => {{
            let mut compared = Vec::new();
            $(
                assert_eq!(
                    rows::<$table::Entity>(a).await,
                    rows::<$table::Entity>(b).await,
                    "table `{}` differs after the restore",
                    stringify!($table)
                );
                compared.push(stringify!($table));
            )*
            compared
        }};
    }
    let mut compared = same!(
        clients,
        operators,
        source_records,
        field_provenance,
        field_history,
        projects,
        match_keys,
        client_search,
        conflicts,
        decisions,
        match_exclusions,
        operator_tokens,
        audit_log,
        outbox,
        write_log,
        backfill_cursors,
        bulk_jobs,
        import_runs,
        inbox_events,
    );
    compared.sort_unstable();
    let mut catalogue: Vec<&str> = tables::all().expect("catalogue").iter().map(|t| t.name).collect();
    catalogue.sort_unstable();
    assert_eq!(compared, catalogue, "the comparison covers every backed-up table");
}

/// A table's rows as their `Debug` text (every column), sorted, instants cut to microseconds.
async fn rows<E: EntityTrait>(db: &DatabaseConnection) -> Vec<String>
where
    E::Model: std::fmt::Debug,
{
    let mut rows: Vec<String> = E::find()
        .all(db)
        .await
        .expect("rows")
        .iter()
        .map(|row| to_microseconds(&format!("{row:?}")))
        .collect();
    rows.sort();
    rows
}

/// `12:00:00.123456789Z` → `12:00:00.123456Z` everywhere in `text` (Postgres keeps micros).
fn to_microseconds(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dot) = rest.find('.') {
        let (head, tail) = rest.split_at(dot);
        out.push_str(head);
        let digits = tail[1..].bytes().take_while(u8::is_ascii_digit).count();
        let after = &tail[1 + digits..];
        let is_instant = head.len() >= 3 && head.as_bytes()[head.len() - 3] == b':' && after.starts_with('Z');
        if is_instant && digits > 6 {
            out.push('.');
            out.push_str(&tail[1..7]);
        } else {
            out.push_str(&tail[..1 + digits]);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

async fn sqlite(dir: &Path, name: &str) -> DatabaseConnection {
    Database::connect(format!("sqlite://{}?mode=rwc", dir.join(name).display()))
        .await
        .expect("sqlite")
}

async fn postgres() -> DatabaseConnection {
    Database::connect(fresh_postgres_database().await)
        .await
        .expect("postgres")
}

async fn assert_empty(db: &DatabaseConnection) {
    let has_clients = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM sqlite_master WHERE name = 'clients'",
        ))
        .await
        .expect("schema");
    if !has_clients.is_empty() {
        assert!(
            clients::Entity::find().all(db).await.expect("clients").is_empty(),
            "nothing was written"
        );
    }
}

async fn app_like_insert_of_a_source_record(db: &DatabaseConnection) {
    use sea_orm::ActiveValue::{NotSet, Set};
    let now = Utc::now();
    source_records::ActiveModel {
        id: NotSet,
        source: Set("hubspot".into()),
        external_id: Set("contact:99".into()),
        kind: Set("contact".into()),
        client_id: Set(None),
        status: Set(source_records::RecordStatus::Active),
        fields: Set(json!({})),
        last_event_at_ms: Set(0),
        email: Set(None),
        document_key: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        placed_by: Set(None),
    }
    .insert(db)
    .await
    .expect("a new record gets an id past the restored ones");
}

#[test]
fn instants_are_compared_to_the_microsecond() {
    assert_eq!(
        to_microseconds("at: 2026-12-03T12:00:00.123456789Z, p: Some(0.1234567891)"),
        "at: 2026-12-03T12:00:00.123456Z, p: Some(0.1234567891)"
    );
}

#[test]
fn restore_from_a_directory_without_a_backup_prints_one_line_naming_it_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let empty = dir.path().join("not-a-backup");
    std::fs::create_dir(&empty).expect("dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .args(["restore", "--from"])
        .arg(&empty)
        .env("CLIENTSYNC_DATABASE__URL", &database)
        .env_remove("RUST_BACKTRACE")
        .env_remove("CLIENTSYNC_BACKTRACE")
        .output()
        .expect("binary runs");
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "{text}");
    assert!(
        text.contains("not-a-backup holds no backup: manifest.json is missing"),
        "{text}"
    );
}
