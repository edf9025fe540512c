//! Client search over a realistic store: `--clients N` (default 50,000) golden clients made
//! from `generate`'s people (names title-cased, one in eight spelt with accents or letters
//! that need folding), written through `store::clients::create` so the search index is filled
//! as the worker fills it; then `--queries Q` (default 2,000) searches of each kind, timed one
//! by one through `lookup::search::search`, as the API and CLI call it.
//!
//! Run: `cargo bench --bench client_search -- --backend sqlite|postgres`. Postgres uses
//! `TEST_DATABASE_URL` (default the local server) and creates and drops its own database;
//! `--keep` leaves it (its name is printed) for EXPLAIN.
//! Results are in BENCHMARKS.md.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use anyhow::Context;
use clientsync::{
    config::Config,
    generate::{Person, Scenario, generate},
    lookup::search::{SearchBy, SearchQuery, search},
    reconcile::{
        Field, Matching,
        normalize::{Normalized, normalize},
    },
    store,
};
use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use secrecy::SecretString;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn title(raw: &str) -> String {
    let mut chars = raw.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One in eight names spelt as a Dane, Pole or German might: the index must fold them.
fn accented(raw: &str, i: usize) -> String {
    if !i.is_multiple_of(8) {
        return raw.to_owned();
    }
    raw.replacen('o', "ø", 1)
        .replacen('l', "ł", 1)
        .replacen("ss", "ß", 1)
        .replacen('e', "é", 1)
}

fn value(field: Field, raw: Option<&str>) -> Option<String> {
    match normalize(field, raw) {
        Normalized::Value(v, _) => Some(v),
        _ => None,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(at).copied().unwrap_or_default()
}

async fn load(db: &sea_orm::DatabaseConnection, people: &[Person]) -> anyhow::Result<()> {
    let mut emails = HashSet::new();
    let mut keys = HashSet::new();
    for (chunk_no, chunk) in people.chunks(500).enumerate() {
        let txn = db.begin().await?;
        for (j, p) in chunk.iter().enumerate() {
            let i = chunk_no * 500 + j;
            let given = title(&accented(&p.given_name, i));
            let family = title(&accented(&p.surname, i + 3));
            let email = value(Field::Email, p.value(Field::Email)).filter(|e| emails.insert(e.clone()));
            let key =
                value(Field::DocumentKey, p.value(Field::DocumentKey)).filter(|k| keys.insert(k.clone()));
            let values = [
                (Field::Name, Some(format!("{given} {family}"))),
                (Field::GivenName, Some(given)),
                (Field::FamilyName, Some(family)),
                (Field::Email, email),
                (Field::DocumentKey, key),
                (Field::Phone, value(Field::Phone, p.value(Field::Phone))),
                (Field::City, p.value(Field::City).map(str::to_owned)),
            ];
            store::clients::create(&txn, &values).await?;
        }
        txn.commit().await?;
    }
    Ok(())
}

struct Kind {
    name: &'static str,
    by: Option<SearchBy>,
    queries: Vec<String>,
}

async fn run() -> anyhow::Result<()> {
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let clients: usize = arg("--clients").map_or(Ok(50_000), |n| n.parse())?;
    let queries: usize = arg("--queries").map_or(Ok(2_000), |n| n.parse())?;
    let dir = tempfile::tempdir()?;
    let (url, drop_name) = match backend.as_str() {
        "postgres" => {
            let name = format!("clientsync_search_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{}/postgres", postgres_url())).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            admin.close().await?;
            (format!("{}/{name}", postgres_url()), Some(name))
        }
        _ => (
            format!("sqlite://{}?mode=rwc", dir.path().join("search.db").display()),
            None,
        ),
    };
    let mut config = Config::defaults()?;
    config.database.url = SecretString::from(url);
    let db = store::connect(&config.database).await?;
    store::migrate(&db).await?;

    let data = generate(&Scenario {
        people: clients,
        ..Scenario::default()
    });
    let started = Instant::now();
    load(&db, &data.left).await.context("loading clients")?;
    println!(
        "{backend}: {} clients written (with their search terms) in {:.1} s",
        data.left.len(),
        started.elapsed().as_secs_f64()
    );
    // Statistics, as autovacuum keeps them on a live server (it is off on the shared test
    // server): without them Postgres plans every term as one row and drives a misspelt-name
    // search from its most common sound-alike, ~30,000 rows, instead of its rarest.
    db.execute_unprepared("ANALYZE").await.context("analyzing")?;

    let stored = &data.left;
    let noisy = &data.right;
    let pick = |i: usize| &stored[(i * 7919) % stored.len()];
    let kinds = [
        Kind {
            name: "name prefix (`garc ma`)",
            by: Some(SearchBy::Name),
            queries: (0..queries)
                .map(|i| {
                    let p = pick(i);
                    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
                    format!("{} {}", cut(&p.surname, 4), cut(&p.given_name, 2))
                })
                .collect(),
        },
        Kind {
            name: "whole name",
            by: Some(SearchBy::Name),
            queries: (0..queries)
                .map(|i| format!("{} {}", pick(i).given_name, pick(i).surname))
                .collect(),
        },
        Kind {
            name: "misspelt name (generate's typos)",
            by: Some(SearchBy::Name),
            queries: noisy
                .iter()
                .take(queries)
                .map(|p| format!("{} {}", p.given_name, p.surname))
                .collect(),
        },
        Kind {
            name: "one surname, guessed (`by` absent)",
            by: None,
            queries: (0..queries).map(|i| pick(i).surname.clone()).collect(),
        },
        Kind {
            name: "email",
            by: Some(SearchBy::Email),
            queries: (0..queries)
                .filter_map(|i| pick(i).value(Field::Email).map(str::to_owned))
                .collect(),
        },
        Kind {
            name: "phone",
            by: Some(SearchBy::Phone),
            queries: (0..queries)
                .filter_map(|i| pick(i).value(Field::Phone).map(str::to_owned))
                .collect(),
        },
    ];
    let matching = Matching::default();
    println!("| query kind | queries | hits (mean) | p50 | p95 | p99 |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for kind in kinds {
        let mut times = Vec::with_capacity(kind.queries.len());
        let mut hits = 0usize;
        for q in &kind.queries {
            let query = SearchQuery {
                q: q.clone(),
                by: kind.by,
                after: None,
                limit: 20,
            };
            let start = Instant::now();
            let page = search(&db, &matching, &query).await;
            times.push(start.elapsed());
            hits += page.map(|p| p.items.len()).unwrap_or(0);
        }
        times.sort_unstable();
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        println!(
            "| {} | {} | {:.1} | {} | {} | {} |",
            kind.name,
            times.len(),
            hits as f64 / times.len().max(1) as f64,
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.95)),
            ms(percentile(&times, 0.99)),
        );
    }
    db.close().await?;
    if let Some(name) = drop_name.filter(|name| {
        let keep = std::env::args().any(|a| a == "--keep");
        if keep {
            println!("kept database {name}");
        }
        !keep
    }) {
        let admin = Database::connect(format!("{}/postgres", postgres_url())).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}
