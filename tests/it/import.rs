//! `clientsync import`: rows validated one by one (refused ones listed with line and reason,
//! never half-written), applied in batches through the reconcile path, resumable after a stop,
//! idempotent on a second run, with statistics stored per run and read back by CLI and API.

use std::path::{Path, PathBuf};

use clientsync::{
    domain::source::Source,
    import::{self, Apply, Encoding, ImportError, ImportJob, ImportSource, Mapping, ReadAs, Summary},
    reconcile::Matching,
};
use entity::{import_runs, operators::Role};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{
    console::Browser,
    helpers::{Backend, TestApp, spawn_app},
};

on_both_backends!(
    bad_rows_are_listed_with_their_line_and_reason_and_the_good_ones_load_with_statistics,
    a_semicolon_export_with_a_byte_order_mark_imports_like_a_comma_one,
    a_windows_1252_export_is_read_as_such_and_its_accents_arrive_intact,
    importing_the_same_file_again_creates_no_client_record_or_event,
    a_stopped_import_resumes_after_its_last_committed_batch_and_lists_each_bad_row_once,
    a_clickup_export_after_a_hubspot_one_links_to_the_clients_it_founded,
    the_imports_api_and_console_show_runs_and_their_statistics_to_viewers,
);

const NIF_LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// A Spanish NIF with the right check letter.
fn nif(n: u32) -> String {
    format!("{n:08}{}", NIF_LETTERS[(n % 23) as usize] as char)
}

fn matching() -> Matching {
    Matching::default()
}

fn job(file: &Path, source: ImportSource, batch: usize) -> ImportJob {
    ImportJob {
        file: file.to_owned(),
        source,
        mapping: Mapping::default(),
        batch,
        stats: vec!["Amount".into()],
        encoding: Encoding::Auto,
        apply: Apply::InBulk,
    }
}

async fn run(app: &TestApp, job: &ImportJob) -> Summary {
    import::import(&app.db, &matching(), job, &CancellationToken::new(), &mut |_| {})
        .await
        .expect("import runs")
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write export");
    path
}

/// (line, reason) of every row in a rejected file: its last two cells (a row refused for its
/// cell count keeps the cells it had).
fn rejected(path: &Path, delimiter: u8) -> Vec<(u64, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_path(path)
        .expect("rejected file");
    let headers = reader.headers().expect("header").clone();
    assert_eq!(
        headers.iter().rev().take(2).collect::<Vec<_>>(),
        vec!["reason", "line"]
    );
    reader
        .byte_records()
        .map(|r| {
            let r = r.expect("row");
            let text = |i: usize| String::from_utf8_lossy(&r[i]).into_owned();
            (
                text(r.len() - 2).parse().expect("a line number"),
                text(r.len() - 1),
            )
        })
        .collect()
}

/// A HubSpot contacts export: 3 good rows among 8 bad ones of every kind.
fn export_with_bad_rows() -> Vec<u8> {
    let mut bytes = format!(
        "Record ID,First Name,Last Name,Email,Phone Number,NIF,Date of birth,Amount\n\
         101,Íñigo,Martínez,inigo@example.es,+34 612 345 678,{},1987-04-12,10.5\n\
         102,Ana,Ruiz,ana@,+34 612 345 679,,,20\n\
         103,Bo,Li,bo@example.com,,12345678A,,30\n\
         104,Cy,Oz,cy@example.com,12,,,40\n\
         105,Di,Ko,di@example.com,,,31/02/1990,50\n\
         ,Ed,Po,ed@example.com,,,,60\n\
         106,,,,+34 612 345 670,,,70\n",
        nif(1)
    )
    .into_bytes();
    bytes.extend_from_slice(b"107,Fe\xf1a,Gil,fe@example.com,,,,80\n");
    bytes.extend_from_slice(b"108,Gu\n");
    bytes.extend_from_slice(
        "109,Søren,Kierkegaard,soren@example.dk,,,,n/a\n110,\"Io, Jr\",Pa,io@example.com,,,,\"1.234,5\"\n"
            .as_bytes(),
    );
    bytes
}

async fn bad_rows_are_listed_with_their_line_and_reason_and_the_good_ones_load_with_statistics(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(&dir, "contacts.csv", &export_with_bad_rows());

    let summary = run(&app, &job(&file, ImportSource::HubSpot, 4)).await;

    let c = summary.stats.counters;
    assert_eq!((c.rows_read, c.rows_loaded, c.rows_rejected), (11, 3, 8));
    assert_eq!((c.new_clients, c.linked, c.conflicts, c.unchanged), (3, 0, 0, 0));
    assert_eq!(app.clients().await.len(), 3, "only the good rows made clients");
    assert_eq!(app.source_records().await.len(), 3, "a bad row writes nothing");
    let reasons = rejected(summary.rejected_file.as_deref().expect("a rejected file"), b',');
    assert_eq!(
        reasons,
        vec![
            (3, "`Email`: invalid email".to_owned()),
            (4, "`NIF`: the NIF/NIE/CIF check character is wrong".to_owned()),
            (5, "`Phone Number`: invalid phone".to_owned()),
            (6, "`Date of birth`: invalid date of birth".to_owned()),
            (7, "`Record ID` (the record id) is empty".to_owned()),
            (
                8,
                "no email, document key or name: nothing says who this is".to_owned()
            ),
            (
                9,
                "`First Name` is not valid UTF-8 (Latin-1 or Windows-1252?): save the file as UTF-8"
                    .to_owned()
            ),
            (10, "2 cells where the header has 8".to_owned()),
        ]
    );
    let raw = std::fs::read(summary.rejected_file.as_deref().expect("file")).expect("read");
    assert!(
        raw.windows(5).any(|w| w == b"Fe\xf1a,"),
        "a refused row keeps its original bytes"
    );

    let amount = &summary.stats.columns["Amount"];
    assert_eq!((amount.count, amount.not_numeric), (2, 1));
    assert_eq!((amount.min, amount.max), (Some(10.5), Some(1234.5)));
    assert_eq!(amount.mean(), Some(622.5));
    let stored = import_runs::Entity::find()
        .one(&app.db)
        .await
        .expect("runs")
        .expect("the run is stored");
    assert_eq!(stored.status, import_runs::ImportStatus::Finished);
    assert_eq!(
        (stored.rows_read, stored.rows_rejected, stored.new_clients),
        (11, 8, 3)
    );
    assert_eq!(stored.last_line, 12);
    assert_eq!(stored.stats["Amount"]["max"], 1234.5);
}

async fn a_semicolon_export_with_a_byte_order_mark_imports_like_a_comma_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!(
        "\u{feff}Código;Nombre;Apellidos;Correo;NIF;Importe\n\
         A-1;Íñigo;Martínez;inigo@example.es;{};\"1.234,50\"\n\
         A-2;Begoña;Ibáñez;bego@example.es;{};99,5\n",
        nif(7),
        nif(8)
    );
    let file = write(&dir, "clientes.csv", text.as_bytes());
    let mapping = Mapping::parse(
        "columnas.txt",
        "id = Código\ngiven_name = Nombre\nfamily_name = Apellidos\nemail = Correo\ndocument_key = NIF\n",
    )
    .expect("mapping");
    let job = ImportJob {
        mapping,
        stats: vec!["Importe".into()],
        ..job(&file, ImportSource::Csv(Source::ClickUp), 500)
    };

    let summary = run(&app, &job).await;

    assert_eq!(summary.stats.counters.rows_loaded, 2);
    assert!(summary.rejected_file.is_none(), "no row was refused, so no file");
    let importe = &summary.stats.columns["Importe"];
    assert_eq!((importe.min, importe.max), (Some(99.5), Some(1234.5)));
    let mut names: Vec<_> = app
        .clients()
        .await
        .into_iter()
        .filter_map(|c| c.given_name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["Begoña", "Íñigo"],
        "the BOM is not part of a header or value"
    );
    let records = app.source_records().await;
    assert!(
        records
            .iter()
            .all(|r| r.source == "clickup" && r.external_id.starts_with("task:A-")),
        "a csv --as clickup makes ClickUp task records by the id column"
    );
}

async fn a_windows_1252_export_is_read_as_such_and_its_accents_arrive_intact(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!(
        "Record ID;First Name;Last Name;Email;NIF;Amount\n\
         1;Søren;Ibáñez;soren@example.es;{};1\n\
         2;Íñigo;Martínez;inigo@example.es;{};2\n\
         3;José;Núñez;jose@;;3\n",
        nif(21),
        nif(22)
    );
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the export really is Windows-1252"
    );
    assert!(bytes.windows(3).any(|w| w == b"S\xf8r"), "Ø is one byte");
    let file = write(&dir, "contactos.csv", &bytes);

    let summary = run(&app, &job(&file, ImportSource::HubSpot, 500)).await;

    assert_eq!(summary.read_as, ReadAs::Windows1252);
    let c = summary.stats.counters;
    assert_eq!((c.rows_loaded, c.rows_rejected, c.new_clients), (2, 1, 2));
    let mut names: Vec<_> = app
        .clients()
        .await
        .into_iter()
        .map(|c| {
            (
                c.given_name.unwrap_or_default(),
                c.family_name.unwrap_or_default(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("Søren".to_owned(), "Ibáñez".to_owned()),
            ("Íñigo".to_owned(), "Martínez".to_owned())
        ]
    );
    let raw = std::fs::read(summary.rejected_file.expect("a rejected file")).expect("read");
    assert!(
        raw.windows(5).any(|w| w == b"Jos\xe9;"),
        "the refused row keeps its Windows-1252 bytes"
    );
    assert!(
        std::str::from_utf8(&raw).is_err(),
        "and the file stays one encoding"
    );
}

async fn importing_the_same_file_again_creates_no_client_record_or_event(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(&dir, "contacts.csv", &export_with_bad_rows());
    let job = job(&file, ImportSource::HubSpot, 2);
    run(&app, &job).await;
    let (clients, records, events) = (
        app.clients().await,
        app.source_records().await,
        app.inbox_count().await,
    );

    let again = run(&app, &job).await;

    assert!(!again.resumed, "the first run finished, so this is a new run");
    let c = again.stats.counters;
    assert_eq!(
        (c.rows_loaded, c.unchanged, c.new_clients, c.linked),
        (3, 3, 0, 0)
    );
    assert_eq!(app.clients().await, clients);
    assert_eq!(app.source_records().await, records);
    assert_eq!(app.inbox_count().await, events);
    assert_eq!(
        import_runs::Entity::find().count(&app.db).await.expect("count"),
        2,
        "each run is kept with its own figures"
    );
}

/// `valid` good contacts with a bad email every fifth row.
fn big_export(valid: u32) -> (Vec<u8>, Vec<u64>) {
    let mut text = String::from("Record ID,First Name,Last Name,Email,NIF,Amount\n");
    let mut bad_lines = Vec::new();
    let mut line = 1;
    for n in 0..valid {
        line += 1;
        text.push_str(&format!(
            "{n},Name{n},Surname{n},p{n}@example.com,{},{n}\n",
            nif(n + 1000)
        ));
        if n % 5 == 4 {
            line += 1;
            bad_lines.push(line);
            text.push_str(&format!("9{n},Bad{n},Row{n},not-an-email,,1\n"));
        }
    }
    (text.into_bytes(), bad_lines)
}

async fn a_stopped_import_resumes_after_its_last_committed_batch_and_lists_each_bad_row_once(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (bytes, bad_lines) = big_export(40);
    let file = write(&dir, "contacts.csv", &bytes);
    let job = job(&file, ImportSource::HubSpot, 10);
    let stop = CancellationToken::new();
    let mut batches = 0;

    let stopped = import::import(&app.db, &matching(), &job, &stop, &mut |_| {
        batches += 1;
        if batches == 2 {
            stop.cancel();
        }
    })
    .await;

    let Err(ImportError::Interrupted { line }) = stopped else {
        panic!("expected an interruption, got {stopped:?}");
    };
    assert_eq!(line, 21, "two batches of ten rows, the header on line 1");
    let run_row = import_runs::Entity::find()
        .one(&app.db)
        .await
        .expect("runs")
        .expect("run");
    assert_eq!((run_row.rows_read, run_row.last_line), (20, 21));
    assert_eq!(run_row.status, import_runs::ImportStatus::Running);
    assert_eq!(
        app.clients().await.len(),
        17,
        "17 good rows in the two committed batches"
    );

    let resumed = run(&app, &job).await;

    assert!(resumed.resumed);
    assert_eq!(resumed.run, Some(run_row.id), "the same run goes on");
    let c = resumed.stats.counters;
    assert_eq!((c.rows_read, c.rows_loaded, c.rows_rejected), (48, 40, 8));
    assert_eq!((c.new_clients, c.unchanged), (40, 0), "no row was applied twice");
    assert_eq!(app.clients().await.len(), 40);
    let listed: Vec<u64> = rejected(&resumed.rejected_file.expect("rejected file"), b',')
        .into_iter()
        .map(|(line, _)| line)
        .collect();
    assert_eq!(listed, bad_lines, "each bad row once, in file order");
    let amount = &resumed.stats.columns["Amount"];
    assert_eq!(
        (amount.count, amount.min, amount.max),
        (40, Some(0.0), Some(39.0))
    );
}

async fn a_clickup_export_after_a_hubspot_one_links_to_the_clients_it_founded(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let contacts = write(
        &dir,
        "contacts.csv",
        format!(
            "Record ID,First Name,Last Name,Email,NIF,Amount\n\
             1,Ana,Ruiz,ana@example.com,{},1\n2,Bruno,Díaz,bruno@example.com,{},2\n",
            nif(11),
            nif(12)
        )
        .as_bytes(),
    );
    let tasks = write(
        &dir,
        "tasks.csv",
        "Task ID,Task Name,Correo,Amount\n\
         t1,Ana Ruiz,ana@example.com,5\nt2,Bruno Díaz,bruno@example.com,6\nt3,Carla Soto,carla@example.com,7\n"
            .as_bytes(),
    );
    run(&app, &job(&contacts, ImportSource::HubSpot, 100)).await;

    let summary = run(&app, &job(&tasks, ImportSource::ClickUp, 100)).await;

    let c = summary.stats.counters;
    assert_eq!((c.rows_loaded, c.linked, c.new_clients), (3, 2, 1));
    assert_eq!(app.clients().await.len(), 3);
}

async fn the_imports_api_and_console_show_runs_and_their_statistics_to_viewers(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(&dir, "contacts.csv", &export_with_bad_rows());
    let summary = run(&app, &job(&file, ImportSource::HubSpot, 500)).await;
    let id = summary.run.expect("a stored run");
    let token = app.add_operator("vera", Role::Viewer).await;
    let get = |path: String, token: Option<&str>| {
        let request = app.client.get(format!("{}{path}", app.address));
        match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
        .send()
    };

    let anonymous = get("/api/v1/imports".into(), None).await.expect("request");
    assert_eq!(anonymous.status(), 401);
    let list: Value = get("/api/v1/imports".into(), Some(&token))
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["id"], id.to_string());
    let one = get(format!("/api/v1/imports/{id}"), Some(&token))
        .await
        .expect("request");
    assert_eq!(one.status(), 200);
    let one: Value = one.json().await.expect("json");
    assert_eq!(one["status"], "finished");
    assert_eq!(
        (one["rows_read"].as_i64(), one["rows_rejected"].as_i64()),
        (Some(11), Some(8))
    );
    assert_eq!(one["stats"]["Amount"]["mean"], 622.5);
    assert_eq!(one["stats"]["Amount"]["not_numeric"], 1);
    let missing = get(format!("/api/v1/imports/{}", uuid::Uuid::now_v7()), Some(&token))
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
    let bad = get("/api/v1/imports?limit=0".into(), Some(&token))
        .await
        .expect("request");
    assert_eq!(bad.status(), 400);

    let mut browser = Browser::new(&app);
    browser.sign_in_with_token(&token).await;
    let (status, page) = browser.get("/console/imports").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("/console/imports/{id}")) && page.contains("contacts.csv"),
        "{page}"
    );
    let (status, page) = browser.get(&format!("/console/imports/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("622.50") && page.contains("1234.50"),
        "the Amount column's mean and max: {page}"
    );
}

/// The binary against a SQLite file: `import`, then `imports list|show`, and the refusals.
#[test]
fn the_import_commands_explain_themselves_and_refuse_bad_input_by_name() {
    use std::process::Command;
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_clientsync"))
            .args(args)
            .env("CLIENTSYNC_DATABASE__URL", &database)
            .env_remove("RUST_BACKTRACE")
            .output()
            .expect("binary runs")
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let file = write(&dir, "contacts.csv", &export_with_bad_rows());
    let file = file.to_str().expect("utf-8 path");

    for command in ["import", "imports"] {
        let help = cli(&[command, "--help"]);
        assert!(
            text(&help.stdout).contains("Example"),
            "{command}: {}",
            text(&help.stdout)
        );
    }
    let no_owner = cli(&["import", "--source", "csv", file]);
    assert_eq!(no_owner.status.code(), Some(1));
    assert!(text(&no_owner.stderr).contains("--source csv needs --as hubspot or --as clickup"));
    let pairs = write(&dir, "pairs.csv", b"left_id,right_id\n1,2\n");
    let wrong = cli(&["import", "--source", "hubspot", pairs.to_str().expect("path")]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("no `Record ID` column"),
        "{}",
        text(&wrong.stderr)
    );
    let mapping = write(&dir, "map.txt", b"email = Email\ncolour = Red\n");
    let bad_mapping = cli(&[
        "import",
        "--source",
        "hubspot",
        file,
        "--mapping",
        mapping.to_str().expect("path"),
    ]);
    assert!(
        text(&bad_mapping.stderr).contains("map.txt, line 2:"),
        "{}",
        text(&bad_mapping.stderr)
    );

    let dry = cli(&[
        "import",
        "--source",
        "hubspot",
        file,
        "--dry-run",
        "--stat",
        "Amount",
    ]);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains("rows: 11 read, 3 valid, 8 rejected"),
        "{}",
        text(&dry.stdout)
    );
    let done = cli(&[
        "import", "--source", "hubspot", file, "--stat", "Amount", "--quiet",
    ]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let out = text(&done.stdout);
    assert!(
        out.contains("clients: 3 new, 0 linked, 0 conflicts, 0 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("Amount: min/mean/max 10.5/622.50/1234.5 over 2 rows (1 not numeric)"),
        "{out}"
    );
    let list = text(&cli(&["imports", "list"]).stdout);
    assert!(
        list.contains("finished") && list.contains("contacts.csv"),
        "{list}"
    );
    let id = list.split_whitespace().next().expect("a run id").to_owned();
    let show: Value = serde_json::from_slice(&cli(&["imports", "show", &id, "--json"]).stdout).expect("json");
    assert_eq!(show["new_clients"], 3);
    let missing = cli(&["imports", "show", "not-a-uuid"]);
    assert_eq!(missing.status.code(), Some(2), "clap names the bad id");
}
