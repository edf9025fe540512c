//! Start-up refuses bad configuration and names the key.

use std::process::Command;

#[test]
fn the_binary_refuses_a_bad_key_and_names_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .arg("migrate")
        .env("CLIENTSYNC_QUEUE__MAX_ATTEMPTS", "0")
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("queue.max_attempts"), "{stderr}");
}

#[test]
fn the_binary_refuses_an_amqp_url_that_is_not_one() {
    let output = Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .arg("migrate")
        .env("CLIENTSYNC_QUEUE__AMQP_URL", "http://user:hunter2@broker")
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("queue.amqp_url"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the secret is not echoed: {stderr}");
}

#[test]
fn the_binary_refuses_an_unknown_variable_and_names_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .arg("migrate")
        .env("CLIENTSYNC_SERVER__PROT", "9090")
        .output()
        .expect("binary runs");
    assert!(
        !output.status.success(),
        "a typo does not start on the default port"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CLIENTSYNC_SERVER__PROT"), "{stderr}");
}

#[test]
fn the_binary_refuses_a_placeholder_secret_and_names_its_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .arg("migrate")
        .env("CLIENTSYNC_HUBSPOT__CLIENT_SECRET", "CHANGE-ME")
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CLIENTSYNC_HUBSPOT__CLIENT_SECRET"), "{stderr}");
    assert!(!stderr.contains("CHANGE-ME"), "the value is not echoed: {stderr}");
}

#[test]
fn a_sqlite_file_that_cannot_be_opened_gets_a_hint_about_mode_rwc() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .arg("migrate")
        .env(
            "CLIENTSYNC_DATABASE__URL",
            format!("sqlite://{}", dir.path().join("absent.db").display()),
        )
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mode=rwc"), "{stderr}");
}
