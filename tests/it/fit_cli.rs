//! `clientsync fit` learns match weights from the stored records, and the worker can load them.

use std::process::Command;

use clientsync::{config::Config, reconcile::fuzzy::Model};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, clickup_task_update, hubspot_property, now_ms, spawn_app};

on_both_backends!(
    fit_writes_weights_learned_from_both_systems_that_the_config_then_loads,
    fit_refuses_a_store_too_small_to_learn_from_and_writes_nothing,
    fit_refuses_weights_under_which_a_disagreeing_phone_says_nothing_and_writes_nothing,
);

const GIVEN: [&str; 12] = [
    "Ana", "Luis", "Marta", "Pablo", "Irene", "Jorge", "Nuria", "Raúl", "Elena", "Diego", "Sofía", "Iván",
];
const FAMILY: [&str; 13] = [
    "Romero", "Prieto", "Navarro", "Vidal", "Molina", "Garrido", "Lozano", "Cabrera", "Fuentes", "Ortega",
    "Serrano", "Delgado", "Santana",
];

/// `people` contacts, and a task for each with the name, the phone and (for two in three) the email.
async fn load_people(app: &TestApp, people: usize) {
    load_people_with(app, people, |i| format!("7{i:08}")).await
}

/// The same, the task's phone written by `task_phone`.
async fn load_people_with(app: &TestApp, people: usize, task_phone: impl Fn(usize) -> String) {
    let t = now_ms() - 600_000;
    let mut events: Vec<Value> = Vec::new();
    for i in 0..people {
        let id = 40_000 + i as i64;
        let at = t + i as i64 * 10;
        let (given, family) = (GIVEN[i % GIVEN.len()], FAMILY[i / GIVEN.len() % FAMILY.len()]);
        // Addresses as people have them: sequential ones (p1@, p2@, …) would make every random
        // pair look like a typo of each other, and a differing email could not count against.
        let email = format!("{}{i}@example.com", family.to_lowercase());
        events.push(hubspot_property(id, "email", &email, at));
        events.push(hubspot_property(id, "firstname", given, at + 1));
        events.push(hubspot_property(id, "lastname", family, at + 2));
        events.push(hubspot_property(id, "phone", &format!("+34 7{i:08}"), at + 3));
        let name = format!("{given} {family}");
        let phone = task_phone(i);
        let mut items = vec![("a", "name", name.as_str()), ("b", "Phone", phone.as_str())];
        if i % 3 != 0 {
            items.push(("c", "Email", email.as_str()));
        }
        let ids: Vec<String> = items.iter().map(|(k, _, _)| format!("{k}{i}")).collect();
        let items: Vec<_> = items
            .iter()
            .zip(&ids)
            .map(|((_, f, v), id)| (id.as_str(), *f, *v))
            .collect();
        let task = clickup_task_update(&format!("t{i}"), &items, at + 5);
        assert_eq!(app.post_clickup(&task).await.status(), 200);
    }
    for batch in events.chunks(100) {
        assert_eq!(app.post_hubspot(&json!(batch)).await.status(), 200);
    }
    app.drain_worker().await;
}

fn run_fit(app: &TestApp, out: &std::path::Path, min_records: usize) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .args([
            "fit",
            "--quiet",
            "--min-records",
            &min_records.to_string(),
            "--out",
        ])
        .arg(out)
        .env("CLIENTSYNC_DATABASE__URL", &app.database_url)
        .env("CLIENTSYNC_TELEMETRY__FILTER", "warn")
        .output()
        .expect("clientsync runs")
}

async fn fit_writes_weights_learned_from_both_systems_that_the_config_then_loads(backend: Backend) {
    let app = spawn_app(backend).await;
    load_people(&app, 150).await;
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("model.json");

    let run = run_fit(&app, &out, 100);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("150 HubSpot × 150 ClickUp records"), "{stdout}");

    let model: Model =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("model file")).expect("json");
    assert!(model.validate().is_ok());
    assert_ne!(model, Model::default(), "fitted, not the defaults");
    let phone = clientsync::reconcile::Field::Phone;
    assert!(
        model.strength(phone) > 5.0,
        "an agreeing phone is strong evidence here"
    );

    let mut config = Config::defaults().expect("defaults");
    config.matching.model_file = Some(out.clone());
    let matching = config.matching.matching().expect("the fitted model loads");
    assert_eq!(matching.model, model);

    std::fs::write(&out, "{\"m\": 1}").expect("write");
    let err = config
        .matching
        .matching()
        .expect_err("a broken file is refused")
        .to_string();
    assert!(
        err.contains("matching.model_file") && err.contains("model.json"),
        "{err}"
    );
}

async fn fit_refuses_a_store_too_small_to_learn_from_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    load_people(&app, 12).await;
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("model.json");

    let run = run_fit(&app, &out, 100);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("12 HubSpot and 12 ClickUp records"), "{stderr}");
    assert!(!out.exists());
}

async fn fit_refuses_weights_under_which_a_disagreeing_phone_says_nothing_and_writes_nothing(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    // Every task carries another phone than its contact: here a differing phone is no evidence
    // against, and a model saying so must not reach the worker.
    load_people_with(&app, 150, |i| format!("9{:08}", (i * 7_919) % 100_000_000)).await;
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("model.json");

    let run = run_fit(&app, &out, 100);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(!run.status.success(), "{stdout}");
    assert!(
        stderr.contains("refused") && stderr.contains("disagreeing phone weighs"),
        "{stderr}"
    );
    assert!(
        stdout.contains("exact-key pairs"),
        "the check is printed first: {stdout}"
    );
    assert!(!out.exists());
}
