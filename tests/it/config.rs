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
