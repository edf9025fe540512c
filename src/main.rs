//! Entry point: parse the command line, load configuration, set up logs, run.

use anyhow::Context;
use clap::Parser;
use clientsync::{
    cli::{self, Cli, Command},
    clock::Clock,
    config::Config,
    startup::{self, Application},
    store, telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
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
        Command::Simulate(args) => return cli::simulate(args).await,
        Command::Demo(args) => {
            // The demo prints its own story; logs only for what goes wrong.
            telemetry::init(&clientsync::config::TelemetryConfig {
                format: clientsync::config::LogFormat::Pretty,
                filter: "warn,sqlx=error,sea_orm=error".into(),
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
        Command::Prune(args) => cli::prune(&config, &args).await,
        Command::PurgeDead(args) => cli::purge_dead(&config, &args).await,
        Command::ReplayDead { limit } => {
            let db = startup::connect(&config).await?;
            let queue = startup::build_queue(&config, &db, &Clock::system());
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
        | Command::Simulate(_) => Ok(()),
    }
}
