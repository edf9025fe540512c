//! A failing command prints one `error: …` line naming what to fix (the host and port it could
//! not reach, never a password) and exits 1; a backtrace only when asked for.

use std::process::{Command, Output};

/// The binary with `args` and `vars`, and no backtrace setting inherited from the test's shell.
fn run(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clientsync"));
    command
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env_remove("CLIENTSYNC_BACKTRACE");
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().expect("binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One line, `error: ` first, and exit status 1.
fn assert_one_error_line(output: &Output) -> String {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.starts_with("error: "), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "one line: {text}");
    text
}

const UNREACHABLE_DATABASE: &str = "postgres://u:secretpw@127.0.0.1:1/x";

#[test]
fn a_command_that_cannot_reach_the_database_names_its_host_and_port_and_hides_the_password() {
    for args in [&["migrate"][..], &["outbox", "list"]] {
        let output = run(
            args,
            &[
                ("CLIENTSYNC_DATABASE__URL", UNREACHABLE_DATABASE),
                ("CLIENTSYNC_DATABASE__CONNECT_TIMEOUT_SECS", "1"),
            ],
        );
        let text = assert_one_error_line(&output);
        assert!(text.contains("127.0.0.1:1"), "{args:?}: {text}");
        assert!(!text.contains("secretpw"), "{args:?}: {text}");
    }
}

#[test]
fn a_command_that_cannot_reach_the_broker_names_its_host_and_port_and_hides_the_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let output = run(
        &["replay-dead"],
        &[
            ("CLIENTSYNC_DATABASE__URL", &database),
            ("CLIENTSYNC_QUEUE__AMQP_URL", "amqp://u:secretpw@127.0.0.1:1/%2f"),
        ],
    );
    let text = assert_one_error_line(&output);
    assert!(text.contains("RabbitMQ at 127.0.0.1:1"), "{text}");
    assert!(!text.contains("secretpw"), "{text}");
}

#[test]
fn a_failing_command_prints_no_backtrace_even_when_rust_backtrace_is_set() {
    for var in ["RUST_BACKTRACE", "RUST_LIB_BACKTRACE"] {
        let output = run(
            &["migrate"],
            &[(var, "1"), ("CLIENTSYNC_QUEUE__MAX_ATTEMPTS", "0")],
        );
        let text = assert_one_error_line(&output);
        assert!(
            text.starts_with("error: loading configuration: ") && text.contains("`queue.max_attempts`"),
            "the cause chain, outermost first: {text}"
        );
        assert!(!text.to_lowercase().contains("backtrace"), "{var}: {text}");
    }
}

#[test]
fn a_backtrace_is_printed_when_asked_for() {
    let bad = ("CLIENTSYNC_QUEUE__MAX_ATTEMPTS", "0");
    for output in [
        run(&["--backtrace", "migrate"], &[bad]),
        run(&["migrate"], &[bad, ("CLIENTSYNC_BACKTRACE", "1")]),
    ] {
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(text.starts_with("error: loading configuration"), "{text}");
        assert!(text.contains("Stack backtrace"), "{text}");
    }
    let output = run(&["migrate"], &[bad, ("CLIENTSYNC_BACKTRACE", "0")]);
    assert_one_error_line(&output);
}
