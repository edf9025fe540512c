//! `demo`: the whole path on a laptop with no account. Starts the simulated HubSpot and
//! ClickUp, starts the service on the embedded default (SQLite, no broker) wired to them,
//! backfills a seeded population, then delivers live, signed webhooks (duplicates and
//! out-of-order batches included), and prints what happened against the scenario's ground truth.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;
use entity::{clients, conflicts, inbox_events, projects, source_records};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::{
    backfill::{Backfill, Scope, Since},
    config::Config,
    queue::EventQueue,
    saas::Apis,
    simulator::{Scenario, SenderConfig, SimConfig, Simulator},
    startup::{Application, Role},
};

/// Prints a line of the story; a closed stdout (`clientsync demo | head`) ends the story, not
/// the process.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The simulated ClickUp plan's rate limit (Business Plus).
const CLICKUP_PER_MINUTE: u32 = 1_000;

/// The simulated ClickUp list whose tasks are projects (the clients' list is the first).
const PROJECT_LIST: &str = "901200000202";

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// People in the scenario.
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// New people who arrive by live webhooks after the backfill.
    #[arg(long, default_value_t = 50)]
    pub arrivals: usize,
    /// The SQLite file left behind for inspection (replaced on every run).
    #[arg(long, default_value = "clientsync-demo.db")]
    pub database: PathBuf,
    /// The service's port (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Seed: the same seed gives the same run.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Exit when the story is told instead of serving the operator console on the demo
    /// database (CI and scripts use this).
    #[arg(long)]
    pub exit: bool,
}

/// What the demo ended with.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSummary {
    /// Golden clients in the store.
    pub clients: u64,
    /// Clients the scenario's construction says there should be.
    pub expected_clients: u64,
    /// Source records linked to a client, of all source records.
    pub linked_records: (u64, u64),
    /// Open conflicts by kind.
    pub conflicts: BTreeMap<String, u64>,
    /// Key collisions the scenario built.
    pub expected_key_collisions: u64,
    /// Objects the backfill applied and how long it took.
    pub backfill: (u64, f64),
    /// Webhook events accepted and how long until all were reconciled.
    pub live: (u64, f64),
    /// Values written back to HubSpot and to ClickUp.
    pub written_back: (u64, u64),
    /// Projects in the store, and how many of them are linked to their client.
    pub projects: (u64, u64),
    /// Project values written back (a task's status and times to its deal, a deal's amount and
    /// payment status to its task).
    pub project_writes: u64,
}

/// Runs the demo, printing as it goes; returns the summary (tests compare it with the truth).
pub async fn demo(args: &DemoArgs) -> anyhow::Result<DemoSummary> {
    let started = Instant::now();
    for suffix in ["", "-wal", "-shm"] {
        let mut path = args.database.clone().into_os_string();
        path.push(suffix);
        // A previous run's file is replaced; a missing one is fine.
        let _ = std::fs::remove_file(PathBuf::from(path));
    }
    // A ClickUp Business Plus workspace (1,000 requests a minute): write-back fills each
    // linked task's empty fields, which at 100 a minute would make the demo wait minutes.
    let sim = Simulator::start(SimConfig {
        seed: args.seed,
        limits: crate::simulator::Limits {
            clickup_per_window: CLICKUP_PER_MINUTE,
            ..crate::simulator::Limits::default()
        },
        clickup_list_ids: SimConfig::default()
            .clickup_list_ids
            .into_iter()
            .chain([PROJECT_LIST.to_owned()])
            .collect(),
        ..SimConfig::default()
    })
    .context("starting the simulator")?;
    let config = demo_config(args, &sim)?;
    let app = Application::build(config.clone(), Role::All).await?;
    let (db, port, queue) = (app.db().clone(), app.port(), app.queue());
    let shutdown = CancellationToken::new();
    let service = tokio::spawn(app.run_until(shutdown.clone()));
    say!(
        "clientsync on http://127.0.0.1:{port}, simulated HubSpot and ClickUp on port {}",
        sim.port()
    );

    let scenario = Scenario {
        clients: args.clients,
        collisions: (args.clients / 200).max(1),
        seed: args.seed,
        ..Scenario::default()
    };
    let truth = sim.seed_silently(&scenario).context("seeding the scenario")?;
    say!(
        "1. Seeded {} HubSpot contacts and {} ClickUp tasks for {} people ({} in both, {} with a typo, \
         {} with a conflicting phone, {} task(s) carrying two people's keys)",
        truth.hubspot_contacts,
        truth.clickup_tasks,
        truth.people.len(),
        truth.in_both_pairs.len(),
        truth.typo_pairs,
        truth.phone_conflicts,
        truth.collision_tasks.len()
    );

    let backfill = Backfill::new(
        db.clone(),
        config.matching.matching()?,
        config.mapping.field_mapping()?,
        Apis::from_config(&config)?,
        config.clickup.list_ids.clone(),
    )
    .with_projects(config.projects_if_enabled())
    .with_progress_bars();
    let timer = Instant::now();
    let report = backfill
        .run(Scope::All, Since::Everything, &CancellationToken::new())
        .await
        .context("backfilling")?;
    let backfill_secs = timer.elapsed().as_secs_f64();
    say!(
        "2. Backfilled {} objects in {backfill_secs:.1} s ({:.0} objects/s) within the documented \
         rate limits ({} API calls, {} answered 429)",
        report.objects(),
        report.objects() as f64 / backfill_secs.max(0.001),
        sim.total_calls(),
        sim.rate_limited()
    );

    sim.set_sender(SenderConfig {
        target: Some(format!("http://127.0.0.1:{port}")),
        public_base_url: Some(config.server.public_base_url.clone()),
        duplicate_rate: 0.1,
        shuffle: true,
        burst: 8,
        seed: args.seed,
        ..SenderConfig::default()
    });
    let writes_before = sim.writes().len();
    let arrivals = live_changes(&sim, &truth, args.arrivals)?;
    let before = inbox_count(&db).await?;
    let timer = Instant::now();
    let delivery = sim.flush().await.context("delivering webhooks")?;
    wait_until_reconciled(&db, queue.as_ref(), &service, before).await?;
    // Write-back's own writes come back as webhooks; deliver those too, until quiet.
    for _ in 0..5 {
        let echoes = sim.flush().await.context("delivering webhooks")?;
        if echoes.events == 0 {
            break;
        }
        wait_until_reconciled(&db, queue.as_ref(), &service, before).await?;
    }
    let live_secs = timer.elapsed().as_secs_f64();
    let live_events = inbox_count(&db).await?.saturating_sub(before);
    let writes = &sim.writes()[writes_before..];
    let to_hubspot = writes
        .iter()
        .filter(|w| w.source == crate::domain::source::Source::HubSpot)
        .count() as u64;
    let written_back = (to_hubspot, writes.len() as u64 - to_hubspot);
    say!(
        "3. Live: {} webhook events in {} signed requests ({} duplicate deliveries, out of order): \
         {live_events} distinct events reconciled in {live_secs:.1} s ({:.0} events/s)",
        delivery.events,
        delivery.requests,
        delivery.duplicated,
        live_events as f64 / live_secs.max(0.001)
    );

    let summary = DemoSummary {
        clients: clients::Entity::find().count(&db).await?,
        expected_clients: (truth.expected_clients + arrivals) as u64,
        linked_records: (
            source_records::Entity::find()
                .filter(source_records::Column::ClientId.is_not_null())
                .count(&db)
                .await?,
            source_records::Entity::find().count(&db).await?,
        ),
        conflicts: open_conflicts(&db).await?,
        expected_key_collisions: truth.expected_key_collisions as u64,
        backfill: (report.objects(), backfill_secs),
        live: (live_events, live_secs),
        written_back,
        projects: (
            projects::Entity::find().count(&db).await?,
            projects::Entity::find()
                .filter(projects::Column::ClientId.is_not_null())
                .count(&db)
                .await?,
        ),
        project_writes: entity::outbox::Entity::find()
            .filter(entity::outbox::Column::Subject.eq(entity::outbox::OutboxSubject::Project))
            .filter(entity::outbox::Column::Status.eq(entity::outbox::OutboxStatus::Sent))
            .count(&db)
            .await?,
    };
    print_summary(&summary, args, port, started.elapsed().as_secs_f64());
    if !args.exit {
        let token = console_admin(&db).await?;
        say!(
            "\nThe operator console is serving this database at http://127.0.0.1:{port}/console\n  \
             sign in with the admin token of `{DEMO_ADMIN}` (shown this once; revoke it on the Operators page):\n  \
             {token}\nStop with Ctrl-C."
        );
        crate::startup::wait_for_signal().await;
    }
    shutdown.cancel();
    let _ = service.await;
    sim.stop().await;
    Ok(summary)
}

/// The admin the demo creates so the console can be opened at once.
pub const DEMO_ADMIN: &str = "demo-admin";

/// Creates the demo's admin and returns their fresh token (the demo database is new each run).
async fn console_admin(db: &DatabaseConnection) -> anyhow::Result<String> {
    use secrecy::ExposeSecret;
    let actor = crate::domain::Actor::cli(Some("demo"));
    let (_, issued) = crate::access::add(db, &actor, DEMO_ADMIN, entity::operators::Role::Admin)
        .await
        .context("creating the console's admin")?;
    Ok(issued.secret.expose_secret().to_owned())
}

/// The embedded default, pointed at the simulator with its local demo credentials.
fn demo_config(args: &DemoArgs, sim: &Simulator) -> anyhow::Result<Config> {
    let mut config = Config::defaults()?;
    let s = sim.config();
    config.server.port = args.port;
    config.database.url = SecretString::from(format!("sqlite://{}?mode=rwc", args.database.display()));
    config.hubspot.client_secret = Some(SecretString::from(
        String::from_utf8_lossy(s.hubspot_client_secret.expose()).into_owned(),
    ));
    config.hubspot.access_token = Some(SecretString::from(s.hubspot_token.clone()));
    config.hubspot.api_base = sim.hubspot_base();
    config.hubspot.app_id = Some(s.hubspot_app_id.to_string());
    config.clickup.requests_per_minute = CLICKUP_PER_MINUTE;
    config.clickup.api_token = Some(SecretString::from(s.clickup_token.clone()));
    config.clickup.api_base = sim.clickup_base();
    config.clickup.team_id = Some(s.clickup_team_id.clone());
    config.clickup.user_id = Some(s.clickup_user_id.to_string());
    config.clickup.list_ids = vec![sim.clickup_list_id()];
    config.projects.clickup_list_ids = vec![PROJECT_LIST.to_owned()];
    config.clickup.webhook_secrets = Some(SecretString::from(sim.clickup_webhook_secrets()));
    config.validate()?;
    Ok(config)
}

/// What happens after the backfill, as users would do it: new people arrive in both systems,
/// some HubSpot contacts change phone, some ClickUp tasks get a different one, and some get a
/// payment or project status (which write-back carries to HubSpot); one in ten gets a
/// project task naming them, estimated and with time tracked, billed by a deal that names the
/// task. Returns how many new
/// people arrived (each one more client).
fn live_changes(
    sim: &Simulator,
    truth: &crate::simulator::GroundTruth,
    arrivals: usize,
) -> anyhow::Result<usize> {
    let list = sim.clickup_list_id();
    for n in 0..arrivals {
        // Numbers far from the scenario's; the letter is the NIF check letter.
        let number = 70_000_000 + n as u32 * 7;
        let tax_id = format!(
            "{number}{}",
            char::from(b"TRWAGMYFPDXBNJZSQVHLCKE"[(number % 23) as usize])
        );
        let email = format!("new.client.{n}@example.net");
        let phone = format!("+34 7{:08}", 5_000_000 + n * 37);
        let (given, family) = ("Nuevo", format!("Cliente{n}"));
        sim.create_contact(&[
            ("email", &email),
            ("firstname", given),
            ("lastname", &family),
            ("tax_id", &tax_id),
            ("phone", &phone),
        ]);
        sim.create_task(
            &list,
            &format!("{given} {family}"),
            &[("Email", &email), ("Tax ID", &tax_id)],
        )?;
    }
    for (n, (contact, task)) in truth.in_both_pairs.iter().enumerate() {
        match n % 50 {
            0 => sim.update_contact(contact, &[("phone", &format!("+34 6{:08}", 90_000_000 - n))])?,
            1 => sim.set_field(task, "Phone", &format!("+34 6{:08}", 80_000_000 - n))?,
            2 => sim.set_field(task, "Payment status", "Paid")?,
            3 => sim.set_field(task, "Project status", "On hold")?,
            _ => {}
        }
        if n % 10 == 5 {
            let name = format!("Proyecto {n}");
            let project = sim.create_task(
                PROJECT_LIST,
                &name,
                &[
                    ("Client", task),
                    ("Product type", ["Web", "Branding", "SEO"][n % 3]),
                ],
            )?;
            let half_hours = |k: usize| Duration::from_secs(1800 * k as u64);
            sim.set_time_estimate(&project, Some(half_hours(8 + n % 16)))?;
            sim.track_time(&project, half_hours(1 + n % 5))?;
            sim.create_deal(&[
                ("dealname", &name),
                ("clickup_task_id", &project),
                ("amount", &(500 + n * 10).to_string()),
                ("payment_status", ["Pending", "Paid"][n % 2]),
            ]);
        }
    }
    Ok(arrivals)
}

async fn inbox_count(db: &DatabaseConnection) -> anyhow::Result<u64> {
    Ok(inbox_events::Entity::find().count(db).await?)
}

/// Waits until the inbox stops growing and nothing waits in the queue (the worker runs in the
/// service); gives up after two minutes.
async fn wait_until_reconciled(
    db: &DatabaseConnection,
    queue: &dyn EventQueue,
    service: &tokio::task::JoinHandle<anyhow::Result<()>>,
    before: u64,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = before;
    let mut quiet = 0;
    while Instant::now() < deadline && !service.is_finished() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = inbox_count(db).await?;
        let pending = queue.depth().await?.unwrap_or(0);
        quiet = if now == last && pending == 0 { quiet + 1 } else { 0 };
        last = now;
        if quiet >= 3 {
            return Ok(());
        }
    }
    anyhow::bail!("events were still being reconciled after two minutes")
}

async fn open_conflicts(db: &DatabaseConnection) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut by_kind = BTreeMap::new();
    for conflict in conflicts::Entity::find()
        .filter(conflicts::Column::Status.eq(conflicts::ConflictStatus::Open))
        .all(db)
        .await?
    {
        *by_kind
            .entry(crate::store::conflicts::kind_name(conflict.kind).to_owned())
            .or_default() += 1;
    }
    Ok(by_kind)
}

fn print_summary(s: &DemoSummary, args: &DemoArgs, port: u16, seconds: f64) {
    let conflicts: Vec<String> = s.conflicts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    say!(
        "\nResult after {seconds:.1} s\n  golden clients   {} (the scenario says {})\n  linked records   {} of {}\n  open conflicts   {} (key collisions built: {})\n  backfill         {} objects in {:.1} s\n  live webhooks    {} events in {:.1} s\n  written back     {} values to HubSpot, {} to ClickUp (each once; echoes recognised)\n  projects         {} ({} linked to their client, {} values written back between deals and tasks; `clientsync report unpaid-by-client`)",
        s.clients,
        s.expected_clients,
        s.linked_records.0,
        s.linked_records.1,
        if conflicts.is_empty() {
            "none".to_owned()
        } else {
            conflicts.join(", ")
        },
        s.expected_key_collisions,
        s.backfill.0,
        s.backfill.1,
        s.live.0,
        s.live.1,
        s.written_back.0,
        s.written_back.1,
        s.projects.0,
        s.projects.1,
        s.project_writes,
    );
    let db = args.database.display();
    let port = if args.port == 0 { 8080 } else { port };
    if !args.exit {
        say!(
            "\nThe database is left in {db} for you to look at, for example:\n  sqlite3 {db} \"select kind, field, hubspot_value, clickup_value from conflicts where status = 'open' limit 10\""
        );
        return;
    }
    say!(
        "\nThe database is left in {db} for you to look at, for example:\n  sqlite3 {db} \"select given_name, family_name, email, phone from clients limit 10\"\n  sqlite3 {db} \"select kind, field, hubspot_value, clickup_value from conflicts where status = 'open' limit 10\"\nor serve it with the operator API on port {port}:\n  export CLIENTSYNC_DATABASE__URL=sqlite://{db}\n  clientsync operators add me --role admin   # prints your token\n  clientsync serve"
    );
}
