//! `clientsync generate`, `match` and `evaluate` on files, as an analyst runs them.

use std::{path::Path, process::Command};

fn clientsync(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_generated_pair_of_exports_is_matched_almost_perfectly() {
    let dir = tempfile::tempdir().unwrap();
    let gen_out = clientsync(
        &["generate", "--out-dir", ".", "--people", "800", "--seed", "7"],
        dir.path(),
    );
    assert!(gen_out.status.success(), "{}", text(&gen_out.stderr));
    let out = clientsync(
        &[
            "match",
            "--left",
            "left.csv",
            "--right",
            "right.csv",
            "--out",
            "pairs.csv",
            "--truth",
            "truth.csv",
            "--quiet",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let f1: f64 = stdout
        .split("F1 ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no F1 in {stdout}"));
    assert!(f1 > 0.99, "{stdout}");
    let pairs = std::fs::read_to_string(dir.path().join("pairs.csv")).unwrap();
    assert!(pairs.starts_with("left_id,right_id,probability\n"));
    assert!(pairs.lines().count() > 600);
}

#[test]
fn deduplicating_one_file_finds_the_copies_in_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("clients.csv"),
        "id,First Name,Last Name,Email,Tax ID,Phone\n\
         1,Ana,Romero,ana@x.com,12345678Z,+34 612 345 678\n\
         2,Pedro,Ibarra,pedro@y.com,87654321X,600111222\n\
         3,ANA,Romero,,12.345.678-z,612345678\n",
    )
    .unwrap();
    let out = clientsync(
        &[
            "match",
            "--dedupe",
            "clients.csv",
            "--out",
            "pairs.csv",
            "--quiet",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pairs = std::fs::read_to_string(dir.path().join("pairs.csv")).unwrap();
    let rows: Vec<&str> = pairs.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{pairs}");
    assert!(rows[0].starts_with("1,3,"), "{pairs}");
}

#[test]
fn a_bad_line_is_named_and_no_output_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), "id,email\n1,a@x.com\n2,b@x.com,extra\n").unwrap();
    std::fs::write(dir.path().join("b.csv"), "id,email\n9,a@x.com\n").unwrap();
    let out = clientsync(
        &[
            "match",
            "--left",
            "a.csv",
            "--right",
            "b.csv",
            "--out",
            "pairs.csv",
            "--quiet",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("a.csv, line 3: 3 fields where the header has 2"),
        "{stderr}"
    );
    assert!(!dir.path().join("pairs.csv").exists());
}

#[test]
fn an_unknown_column_mapping_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), "id,email\n1,a@x.com\n").unwrap();
    let out = clientsync(
        &[
            "match",
            "--dedupe",
            "a.csv",
            "--out",
            "p.csv",
            "--column",
            "document_key=NIF",
            "--quiet",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no column named `NIF`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn deduplicating_a_file_with_nordic_and_polish_names_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("clients.csv"),
        "id,First Name,Last Name,Email,Phone\n\
         1,Søren,Sæther,soren@example.no,+47 912 34 567\n\
         2,Maria,Skłodowska,maria@example.pl,\n\
         3,Soren,Saether,,+47 912 34 567\n\
         4,Cæsar,Sørensen,,\n",
    )
    .unwrap();
    let out = clientsync(
        &[
            "match",
            "--dedupe",
            "clients.csv",
            "--out",
            "pairs.csv",
            "--quiet",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pairs = std::fs::read_to_string(dir.path().join("pairs.csv")).unwrap();
    assert!(pairs.starts_with("left_id,right_id,probability\n"), "{pairs}");
}

#[test]
fn deduplicating_a_person_with_three_records_writes_one_cluster_and_its_three_pairs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("clients.csv"),
        "id,First Name,Last Name,Email,Tax ID,Phone\n\
         1,Ana,Romero,ana@x.com,12345678Z,+34 612 345 678\n\
         2,Pedro,Ibarra,pedro@y.com,87654321X,600111222\n\
         3,ANA,Romero,,12.345.678-z,612345678\n\
         4,Ana,Romeor,ana@x.com,,612 345 678\n",
    )
    .unwrap();
    let out = clientsync(
        &[
            "match",
            "--dedupe",
            "clients.csv",
            "--out",
            "pairs.csv",
            "--clusters",
            "clusters.csv",
            "--quiet",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pairs = std::fs::read_to_string(dir.path().join("pairs.csv")).unwrap();
    let mut found: Vec<&str> = pairs.lines().skip(1).map(|l| &l[..3]).collect();
    found.sort_unstable();
    assert_eq!(found, ["1,3", "1,4", "3,4"], "{pairs}");
    let clusters = std::fs::read_to_string(dir.path().join("clusters.csv")).unwrap();
    assert_eq!(clusters, "id,cluster_id\n1,1\n2,2\n3,1\n4,1\n");
}
