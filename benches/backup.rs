//! Backup and restore of a large store: `--clients N` (default 1,000,000) golden clients with
//! every column filled, seeded straight into the `clients` table (not timed), then
//! `backup::backup` into a temp directory and `backup::restore` of it into a new, empty store of
//! `--to` (default: the same backend), each timed as the CLI runs it.
//!
//! Run: `cargo bench --bench backup -- --backend sqlite|postgres [--to sqlite|postgres]`.
//! Postgres uses `TEST_DATABASE_URL` (default the local server) and creates and drops its own
//! databases. Results are in BENCHMARKS.md.

use std::time::Instant;

use anyhow::Context;
use chrono::{Duration, Utc};
use clientsync::{backup, store};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, TransactionTrait,
    sea_query::{Alias, Expr, Query},
};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A new empty store of `backend`, and what to drop at the end.
async fn open(
    backend: &str,
    dir: &std::path::Path,
    name: &str,
) -> anyhow::Result<(DatabaseConnection, Option<String>)> {
    match backend {
        "postgres" => {
            let db_name = format!("clientsync_bench_backup_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{}/postgres", postgres_url())).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {db_name}"))
                .await?;
            admin.close().await?;
            Ok((
                Database::connect(format!("{}/{db_name}", postgres_url())).await?,
                Some(db_name),
            ))
        }
        "sqlite" => {
            let url = format!("sqlite://{}?mode=rwc", dir.join(name).display());
            let db = Database::connect(url).await?;
            db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
            db.execute_unprepared("PRAGMA synchronous=NORMAL").await?;
            Ok((db, None))
        }
        other => anyhow::bail!("--backend is sqlite or postgres, not {other}"),
    }
}

async fn drop_database(name: Option<String>) -> anyhow::Result<()> {
    if let Some(name) = name {
        let admin = Database::connect(format!("{}/postgres", postgres_url())).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}

/// `n` clients, every column filled, in one transaction of 1,000-row inserts.
async fn seed(db: &DatabaseConnection, n: usize) -> anyhow::Result<()> {
    let columns = [
        "id",
        "name",
        "given_name",
        "family_name",
        "email",
        "document_key",
        "document_key_check",
        "phone",
        "company",
        "date_of_birth",
        "street_number",
        "street",
        "address_2",
        "city",
        "postcode",
        "region",
        "project_status",
        "payment_status",
        "version",
        "created_at",
        "updated_at",
    ];
    let start = Utc::now() - Duration::days(400);
    let txn = db.begin().await?;
    let mut i = 0;
    while i < n {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("clients"))
            .columns(columns.iter().map(|c| Alias::new(*c)));
        for k in i..(i + 1_000).min(n) {
            let at = start + Duration::microseconds(k as i64 * 31_557_001);
            insert.values([
                Expr::val(uuid::Uuid::now_v7()),
                Expr::val(format!("Client Número {k}")),
                Expr::val(format!("Nombre{k}")),
                Expr::val(format!("Apellido{k}")),
                Expr::val(format!("client{k}@example.com")),
                Expr::val(format!("{:08}Z", k)),
                Expr::val("valid"),
                Expr::val(format!("+3461{:07}", k)),
                Expr::val(format!("Empresa {} S.L.", k % 5_000)),
                Expr::val("1980-02-29"),
                Expr::val(format!("{}", k % 300)),
                Expr::val("Calle de Alcalá"),
                Expr::val(format!("Piso {}", k % 12)),
                Expr::val("Madrid"),
                Expr::val(format!("280{:02}", k % 60)),
                Expr::val("Madrid"),
                Expr::val("in progress"),
                Expr::val("paid"),
                Expr::val(1i64 + (k % 7) as i64),
                Expr::val(at),
                Expr::val(at + Duration::seconds(90)),
            ])?;
        }
        txn.execute(&insert).await?;
        i += 1_000;
    }
    txn.commit().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let from = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let to = arg("--to").unwrap_or_else(|| from.clone());
    let n: usize = arg("--clients")
        .map_or(Ok(1_000_000), |v| v.parse())
        .context("--clients N")?;
    let dir = tempfile::tempdir()?;

    let (source, source_name) = open(&from, dir.path(), "source.db").await?;
    store::migrate(&source).await?;
    let seeding = Instant::now();
    seed(&source, n).await?;
    println!(
        "seeded {n} clients on {from} in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let out = dir.path().join("backup");
    let started = Instant::now();
    let manifest = backup::backup(&source, &out).await?;
    let took = started.elapsed().as_secs_f64();
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backup  {from}: {took:.1} s, {:.0} clients/s, {:.1} MB in {} files",
        n as f64 / took,
        bytes as f64 / 1e6,
        manifest.files.len()
    );

    let (target, target_name) = open(&to, dir.path(), "target.db").await?;
    let started = Instant::now();
    backup::restore(&target, &out).await?;
    let took = started.elapsed().as_secs_f64();
    println!(
        "restore {to}: {took:.1} s, {:.0} clients/s (includes checking every file)",
        n as f64 / took
    );

    source.close().await?;
    target.close().await?;
    drop_database(source_name).await?;
    drop_database(target_name).await?;
    Ok(())
}
