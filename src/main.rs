//! Entry point: parse the command line, load configuration, set up logs, run. A failure prints
//! one `error: …` line (the cause chain, outermost first) and exits 1; a backtrace follows only
//! when asked for with `--backtrace` or `CLIENTSYNC_BACKTRACE=1`, never because `RUST_BACKTRACE`
//! happens to be set in the shell.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use clientsync::{
    cli::{self, Cli, Command},
    clock::Clock,
    config::Config,
    startup::{self, Application},
    store, telemetry,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let backtrace = cli.backtrace;
    if backtrace {
        // anyhow captures a backtrace only when this says so, read when the first error is made.
        // SAFETY: no other thread exists yet (the runtime is built below), so nothing reads the
        // environment while it changes.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "1") };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if backtrace => {
            eprintln!("error: {e:?}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The cause chain on one line, outermost first, as `{:#}` prints it but without a cause the
/// line already says (errors that show their source in their own message would repeat it).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Sign(args) => {
            for line in cli::sign(args, chrono::Utc::now().timestamp_millis())? {
                println!("{line}");
            }
            return Ok(());
        }
        Command::Match(args) => return cli::run_match(args),
        Command::Generate(args) => return cli::generate(args),
        Command::Evaluate(args) => return cli::evaluate(args),
        Command::Probe(args) => return cli::probe(args),
        Command::Openapi => {
            print!("{}", clientsync::api::openapi::document());
            return Ok(());
        }
        Command::Simulate(args) => return cli::simulate(args).await,
        Command::Demo(args) => {
            // The demo prints its own story; logs only for what goes wrong (a refused console
            // request is the visitor's news, not the demo's, as in the default filter).
            telemetry::init(&clientsync::config::TelemetryConfig {
                format: clientsync::config::LogFormat::Pretty,
                filter: "warn,sqlx=error,sea_orm=error,lapin=off,tracing_actix_web::middleware=off".into(),
            });
            return cli::demo(args).await.map(drop);
        }
        _ => {}
    }
    let config = Config::load(cli.config.as_deref()).context("loading configuration")?;
    telemetry::init(&config.telemetry);
    match cli.command {
        Command::Serve { role } => {
            let app = Application::build(config, role).await?;
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let db = startup::connect(&config).await?;
            store::migrate(&db).await.context("running migrations")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Fit(args) => cli::fit(&config, &args).await,
        Command::Backfill(args) => cli::backfill(&config, &args).await,
        Command::Outbox(args) => cli::outbox(&config, &args).await,
        Command::Dead(args) => cli::dead(&config, &args).await,
        Command::Operators(args) => cli::operators(&config, &args).await,
        Command::Clients(args) => cli::clients(&config, &args).await,
        Command::Conflicts(args) => cli::conflicts(&config, &args).await,
        Command::Audit(args) => cli::audit(&config, &args).await,
        Command::Prune(args) => cli::prune(&config, &args).await,
        Command::Report(args) => cli::report(&config, &args).await,
        Command::Backup(args) => cli::backup(&config, &args).await,
        Command::Restore(args) => cli::restore(&config, &args).await,
        Command::PurgeDead(args) => cli::purge_dead(&config, &args).await,
        Command::Import(args) => cli::import(&config, &args).await,
        Command::Imports(args) => cli::imports(&config, &args).await,
        Command::ReplayDead { limit } => {
            let db = startup::connect(&config).await?;
            let queue = startup::build_queue(&config, &db, &Clock::system()).await?;
            let moved = queue.replay_dead(limit).await.context("replaying dead letters")?;
            println!("{moved} dead-lettered events moved back to the work queue");
            Ok(())
        }
        Command::Sign(_)
        | Command::Demo(_)
        | Command::Match(_)
        | Command::Generate(_)
        | Command::Evaluate(_)
        | Command::Probe(_)
        | Command::Simulate(_)
        | Command::Openapi => Ok(()),
    }
}
