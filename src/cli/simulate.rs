//! `simulate`: runs fake HubSpot and ClickUp APIs with a seeded population, prints how to point
//! the service at them, optionally delivers their webhooks, and serves until Ctrl-C.

use anyhow::Context;

use crate::{
    receiver::signature::WebhookSecret,
    simulator::{Scenario, SenderConfig, SimConfig, Simulator},
};

/// Arguments of `simulate`. Credentials come only from the environment (`SIM_HUBSPOT_TOKEN`,
/// `SIM_CLICKUP_TOKEN`, `SIM_HUBSPOT_CLIENT_SECRET`, `SIM_CLICKUP_WEBHOOK_SECRET`), with local-demo
/// defaults.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Interface to bind (`0.0.0.0` in a container).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port (0 = any free port).
    #[arg(long, default_value_t = 4010)]
    pub port: u16,
    /// People to populate.
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// Seed: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The receiver's origin to deliver webhooks to, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    pub target: Option<String>,
    /// The service's `server.public_base_url` (what HubSpot v3 signs); defaults to `--target`.
    #[arg(long)]
    pub public_base_url: Option<String>,
    /// Seed with webhooks and deliver them to `--target` (otherwise seed silently, for backfill).
    #[arg(long, requires = "target")]
    pub send: bool,
}

/// Runs the simulator until Ctrl-C.
pub async fn simulate(args: &SimulateArgs) -> anyhow::Result<()> {
    let defaults = SimConfig::default();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let config = SimConfig {
        host: args.host.clone(),
        port: args.port,
        clickup_webhook_secret: env("SIM_CLICKUP_WEBHOOK_SECRET").map(WebhookSecret::new),
        hubspot_token: env("SIM_HUBSPOT_TOKEN").unwrap_or(defaults.hubspot_token.clone()),
        clickup_token: env("SIM_CLICKUP_TOKEN").unwrap_or(defaults.clickup_token.clone()),
        hubspot_client_secret: env("SIM_HUBSPOT_CLIENT_SECRET")
            .map(WebhookSecret::new)
            .unwrap_or(defaults.hubspot_client_secret.clone()),
        sender: SenderConfig {
            target: args.target.clone(),
            public_base_url: args.public_base_url.clone(),
            ..SenderConfig::default()
        },
        seed: args.seed,
        ..defaults
    };
    let sim = Simulator::start(config).context("starting the simulator")?;
    let scenario = Scenario {
        clients: args.clients,
        seed: args.seed,
        ..Scenario::default()
    };
    let truth = if args.send {
        sim.seed_with_webhooks(&scenario)
    } else {
        sim.seed_silently(&scenario)
    }
    .context("seeding the scenario")?;
    let c = sim.config();
    println!(
        "HubSpot API base: {}  (token: $SIM_HUBSPOT_TOKEN, app id {})",
        sim.hubspot_base(),
        c.hubspot_app_id
    );
    println!(
        "ClickUp API base: {}  (token: $SIM_CLICKUP_TOKEN, user id {}, team {}, list {})",
        sim.clickup_base(),
        c.clickup_user_id,
        c.clickup_team_id,
        sim.clickup_list_id()
    );
    println!("HubSpot client secret: $SIM_HUBSPOT_CLIENT_SECRET (or the demo default)");
    // The one place the generated ClickUp secrets are shown: the service needs them.
    println!(
        "CLIENTSYNC_CLICKUP__WEBHOOK_SECRETS={}",
        sim.clickup_webhook_secrets()
    );
    println!(
        "Seeded {} contacts and {} tasks: expect {} clients, {} field conflicts, {} key collisions",
        truth.hubspot_contacts,
        truth.clickup_tasks,
        truth.expected_clients,
        truth.expected_field_conflicts,
        truth.expected_key_collisions
    );
    if args.send {
        let report = sim.flush().await.context("delivering webhooks")?;
        println!(
            "Delivered {} events in {} requests: {} sent, {} retried, {} failed",
            report.events, report.requests, report.sent, report.retried, report.failed
        );
    }
    println!("Serving; Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    sim.stop().await;
    Ok(())
}
