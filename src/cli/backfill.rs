//! `backfill`: pulls every client from HubSpot and ClickUp through the reconcile path; run it
//! once after installing, then on a schedule with `--incremental`.

use std::time::Instant;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::{
    backfill::{Backfill, Report, Scope, Since},
    config::Config,
    saas::Apis,
    store,
};

/// Arguments of `backfill`.
#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// Which systems to read.
    #[arg(long, value_enum, default_value = "all")]
    pub source: Scope,
    /// Only objects changed at or after this date (`2026-11-01` or RFC 3339).
    #[arg(long, value_parser = parse_since, conflicts_with = "incremental")]
    pub since: Option<i64>,
    /// Only objects changed since the previous run began (what a schedule runs).
    #[arg(long)]
    pub incremental: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// Reads a `--since` date as Unix ms: a day (midnight UTC) or an RFC 3339 time.
pub fn parse_since(text: &str) -> Result<i64, String> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return day
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
            .ok_or_else(|| format!("`{text}` is not a usable day"));
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            format!("`{text}` is neither a day (2026-11-01) nor an RFC 3339 time (2026-11-01T09:00:00Z)")
        })
}

/// Runs the backfill; Ctrl-C or SIGTERM stops it after the page in hand, and the next run
/// resumes there.
pub async fn backfill(config: &Config, args: &BackfillArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database).await?;
    store::migrate(&db).await.context("running migrations")?;
    let apis = Apis::from_config(config).context("building the API clients")?;
    let mut backfill = Backfill::new(
        db,
        config.matching.matching()?,
        config.mapping.field_mapping()?,
        apis,
        config.clickup.list_ids.clone(),
    )
    .with_projects(config.projects_if_enabled());
    if !args.quiet {
        backfill = backfill.with_progress_bars();
    }
    let since = match (args.since, args.incremental) {
        (Some(ms), _) => Since::Time(ms),
        (None, true) => Since::LastRun,
        (None, false) => Since::Everything,
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let started = Instant::now();
    let report = backfill.run(args.source, since, &shutdown).await?;
    print_report(&report, started.elapsed().as_secs_f64());
    Ok(())
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM, saying that the work in hand finishes first.
pub(crate) async fn cancel_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    eprintln!("stopping after the page or batch in hand; the next run resumes there");
    shutdown.cancel();
}

fn print_report(report: &Report, seconds: f64) {
    for (stream, s) in &report.streams {
        let outcomes: Vec<String> = s.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "{stream:28} {:>7} objects{}  {}",
            s.objects,
            if s.resumed { " (resumed)" } else { "" },
            outcomes.join(", ")
        );
    }
    let total = report.objects();
    println!(
        "{total} objects in {seconds:.1} s ({:.0} objects/s)",
        total as f64 / seconds.max(0.001)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_day_or_an_rfc3339_time_and_names_what_it_got() {
        assert_eq!(parse_since("1970-01-02"), Ok(86_400_000));
        assert_eq!(parse_since("1970-01-01T00:00:01Z"), Ok(1_000));
        let err = parse_since("yesterday").unwrap_err();
        assert!(err.contains("`yesterday`"), "{err}");
    }
}
