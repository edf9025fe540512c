//! `clientsync demo`, the README's first command, ends where its scenario's ground truth says.

use clientsync::cli::{DemoArgs, demo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_ends_with_the_clients_and_collisions_its_scenario_was_built_with() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("demo.db");

    let summary = demo(&DemoArgs {
        clients: 200,
        arrivals: 10,
        database: database.clone(),
        port: 0,
        seed: 11,
        exit: true,
    })
    .await
    .expect("the demo runs");

    assert_eq!(summary.clients, summary.expected_clients, "{summary:?}");
    assert_eq!(
        summary.conflicts.get("key_collision").copied().unwrap_or(0),
        summary.expected_key_collisions,
        "{summary:?}"
    );
    assert!(
        summary.backfill.0 > 200,
        "the backfill read both systems: {summary:?}"
    );
    assert!(summary.live.0 > 0, "live webhooks were reconciled: {summary:?}");
    let (linked, all) = summary.linked_records;
    assert!(
        linked + summary.expected_key_collisions + 5 >= all,
        "nearly every record is linked: {summary:?}"
    );
    let (projects, with_client) = summary.projects;
    assert!(projects > 0, "the demo made projects: {summary:?}");
    assert_eq!(
        projects, with_client,
        "every project found its client: {summary:?}"
    );
    assert!(
        summary.project_writes >= 5 * projects,
        "each project's deal learnt its task's status, time estimate and time spent, and its task the \
         deal's amount and payment status: {summary:?}"
    );
    assert!(database.exists(), "the database is left for inspection");
}
