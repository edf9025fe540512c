//! `clientsync import` speed: `--rows N` (default 100,000) generated people (realistic Spanish
//! and international names with accents, from `clientsync generate`), 10% of them invalid in
//! five ways (bad email, wrong NIF check letter, bad phone, impossible date, no identity),
//! written as a CSV with an `amount` column and imported into a fresh store through
//! `import::import`, as `clientsync import --source csv --as hubspot --stat amount` runs it;
//! then the same file again (every row unchanged).
//!
//! Run: `cargo bench --bench import -- --backend sqlite|postgres [--rows N] [--batch N]
//! [--per-event]` (`--per-event`: every row through the engine, as before the bulk path).
//! Postgres uses `TEST_DATABASE_URL` (default the local server) and creates and drops its own
//! database. Results are in BENCHMARKS.md.

use std::{io::Write, time::Instant};

use clientsync::{
    config::Config,
    domain::source::Source,
    generate::{HEADER, Scenario, generate},
    import::{self, ImportJob, ImportSource, Mapping},
    store,
};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

const NIF_LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Writes the export: every tenth row is broken in one of five ways, in turn.
fn write_export(path: &std::path::Path, rows: usize) -> anyhow::Result<usize> {
    let people = generate(&Scenario {
        people: rows,
        overlap: 0.0,
        ..Scenario::default()
    })
    .left;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(path)?));
    out.write_record(HEADER.iter().copied().chain(["amount"]))?;
    let mut invalid = 0;
    for (n, p) in people.iter().enumerate() {
        let number = 10_000_000 + n as u32;
        let mut nif = format!("{number:08}{}", NIF_LETTERS[(number % 23) as usize] as char);
        let (mut email, mut phone, mut dob) =
            (p.email.clone(), p.phone_number.clone(), p.date_of_birth.clone());
        let (mut given, mut surname) = (p.given_name.clone(), p.surname.clone());
        if n % 10 == 9 {
            invalid += 1;
            match (n / 10) % 5 {
                0 => email = format!("{}-at-example.com", p.given_name),
                1 => nif.replace_range(8.., if nif.ends_with('A') { "B" } else { "A" }),
                2 => phone = "12".into(),
                3 => dob = "31/02/1990".into(),
                _ => {
                    email.clear();
                    nif.clear();
                    given.clear();
                    surname.clear();
                }
            }
        }
        let amount = format!("{}.{:02}", (n * 37) % 5000, n % 100);
        out.write_record([
            p.id.as_str(),
            &given,
            &surname,
            &p.street_number,
            &p.address_1,
            &p.address_2,
            &p.suburb,
            &p.postcode,
            &p.state,
            &dob,
            &nif,
            &phone,
            &email,
            &amount,
        ])?;
    }
    out.flush()?;
    Ok(invalid)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let rows: usize = arg("--rows").map_or(Ok(100_000), |r| r.parse())?;
    let batch: usize = arg("--batch").map_or(Ok(500), |r| r.parse())?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("clients.csv");
    let invalid = write_export(&file, rows)?;
    println!(
        "{rows} rows ({invalid} invalid), batch {batch}, backend {backend}{}",
        if std::env::args().any(|a| a == "--per-event") {
            ", every row through the engine"
        } else {
            ""
        }
    );

    let (url, drop_db) = match backend.as_str() {
        "postgres" => {
            let name = format!("clientsync_bench_import_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{}/postgres", postgres_url())).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            admin.close().await?;
            (format!("{}/{name}", postgres_url()), Some(name))
        }
        "sqlite" => (
            format!("sqlite://{}?mode=rwc", dir.path().join("import.db").display()),
            None,
        ),
        other => anyhow::bail!("--backend is sqlite or postgres, not {other}"),
    };
    let mut config = Config::defaults()?;
    config.database.url = SecretString::from(url);
    let db = store::connect(&config.database).await?;
    store::migrate(&db).await?;
    let matching = config.matching.matching()?;
    let job = ImportJob {
        file: file.clone(),
        source: ImportSource::Csv(Source::HubSpot),
        mapping: Mapping::default(),
        batch,
        stats: vec!["amount".into()],
        encoding: import::Encoding::Auto,
        apply: if std::env::args().any(|a| a == "--per-event") {
            import::Apply::EventByEvent
        } else {
            import::Apply::InBulk
        },
    };

    for pass in ["first import", "same file again"] {
        let (statements, cpu) = (store::statements_run(), cpu_seconds());
        let started = Instant::now();
        let mut last = Instant::now();
        let summary = import::import(&db, &matching, &job, &CancellationToken::new(), &mut |p| {
            if last.elapsed().as_secs() >= 10 {
                eprintln!("  {}", p.stats.line());
                last = Instant::now();
            }
        })
        .await?;
        let seconds = started.elapsed().as_secs_f64();
        let loaded = summary.stats.counters.rows_loaded.max(1) as f64;
        println!(
            "{pass}: {:.1} s, {:.0} rows/s, {:.1} statements and {:.2} CPU-ms (this process) per loaded row, {} in bulk ({})",
            seconds,
            rows as f64 / seconds,
            (store::statements_run() - statements) as f64 / loaded,
            (cpu_seconds() - cpu) * 1000.0 / loaded,
            summary.rows_in_bulk,
            summary.stats.line()
        );
        std::io::stdout().flush()?;
    }
    db.close().await?;
    if let Some(name) = drop_db {
        let admin = Database::connect(format!("{}/postgres", postgres_url())).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat` (0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name's closing parenthesis are fixed: utime and stime are 11, 12.
    let fields: Vec<&str> = text
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
