//! Liveness and readiness probes.

use std::{future::Future, sync::Arc, time::Duration};

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::{
    queue::EventQueue,
    saas::webhook_health::WebhookWatch,
    store,
    worker::{ConsumerHealth, ConsumerReport},
};

/// What readiness checks.
pub struct Probes {
    /// The store.
    pub db: DatabaseConnection,
    /// Where the store is (`host:port` or the SQLite file), named in reasons.
    pub database_endpoint: String,
    /// Whether this process needs the database to do its job: a worker does, and so does a
    /// receiver whose queue is the database; a receiver publishing to RabbitMQ does not, so it
    /// stays ready (and keeps accepting webhooks) through a database outage, saying so.
    pub database_required: bool,
    /// The queue backend.
    pub queue: Arc<dyn EventQueue>,
    /// What the queue is and where (`RabbitMQ at host:port`), named when it hangs.
    pub queue_endpoint: String,
    /// ClickUp webhook health, when it is watched; shown, never failing readiness.
    pub webhooks: Option<WebhookWatch>,
    /// The worker's consumers when this process runs the worker role: with none live, the
    /// process is not ready (its queue would grow with nobody taking from it).
    pub consumers: Option<ConsumerHealth>,
    /// How long each check may take: a broker or database that hangs is unavailable, and the
    /// probe still answers.
    pub check_timeout: Duration,
}

/// Runs one check of `what` within `limit`; a hang counts as a failure.
async fn bounded<E: std::fmt::Display>(
    what: &str,
    limit: Duration,
    check: impl Future<Output = Result<(), E>>,
) -> Result<(), String> {
    match tokio::time::timeout(limit, check).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("{what}: no answer within {limit:?}")),
    }
}

/// Mounts `/healthz` and `/readyz`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// The process is up and serving HTTP.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The queue answers, the database too where the process needs it, and a worker process has a
/// consumer taking messages; a load balancer stops sending webhooks, and an orchestrator
/// reports the pod, when they do not. Whatever is unavailable is named with its reason.
async fn readyz(probes: web::Data<Probes>) -> HttpResponse {
    let (database, queue) = tokio::join!(
        async {
            store::ping(&probes.db, &probes.database_endpoint, probes.check_timeout)
                .await
                .map_err(|e| e.to_string())
        },
        bounded(&probes.queue_endpoint, probes.check_timeout, probes.queue.ping()),
    );
    let status = |ok: bool| if ok { "ok" } else { "unavailable" };
    let mut body = json!({
        "database": status(database.is_ok()),
        "queue": status(queue.is_ok()),
    });
    let mut reasons = serde_json::Map::new();
    if let Err(e) = &database {
        tracing::warn!(error = %e, required = probes.database_required, "readiness: database unreachable");
        reasons.insert("database".into(), e.as_str().into());
    }
    if let Err(e) = &queue {
        tracing::warn!(error = %e, "readiness: queue unreachable");
        reasons.insert("queue".into(), e.as_str().into());
    }
    if !reasons.is_empty() {
        body["reasons"] = reasons.into();
    }
    if let Some(watch) = &probes.webhooks {
        body["clickup_webhooks"] = watch.detail();
    }
    let consumers = probes.consumers.as_ref().map(ConsumerHealth::report);
    if let Some(report) = &consumers {
        body["worker"] = worker_detail(report);
    }
    let database_ok = database.is_ok() || !probes.database_required;
    if database_ok && queue.is_ok() && consumers.as_ref().is_none_or(ConsumerReport::is_ready) {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// The worker part of the readiness body: how many consumers run, and why that is not enough.
fn worker_detail(report: &ConsumerReport) -> serde_json::Value {
    let mut detail = json!({
        "status": if report.is_ready() { "ok" } else { "unavailable" },
        "live_consumers": report.live,
        "consumers": report.wanted,
        "restarts": report.restarts,
        "waiting_for_database": report.waiting_for_database,
    });
    if let Some(problem) = report.problem() {
        tracing::warn!(%problem, last_failure = ?report.last_failure, "readiness: worker not consuming");
        detail["detail"] = problem.into();
    } else if report.waiting_for_database > 0 {
        detail["detail"] = format!(
            "{} consumers hold their messages until the database answers again",
            report.waiting_for_database
        )
        .into();
    }
    detail
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::body::to_bytes;
    use serde_json::Value;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::worker::{
        RestartPolicy, Worker,
        doubles::{Misbehaviour, UnrulyQueue},
    };

    /// A worker whose queue panics on `panics` receives, and whose consumers wait an hour
    /// before a restart (so consumers that died stay gone for the test).
    async fn worker(panics: usize) -> (Worker, Probes) {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let queue: Arc<dyn EventQueue> = Arc::new(UnrulyQueue::new(Misbehaviour::Panic, panics));
        let worker = Worker::new(db.clone(), queue.clone()).with_restart(RestartPolicy {
            first_delay: Duration::from_secs(3600),
            max_delay: Duration::from_secs(3600),
            healthy_after: Duration::from_secs(3600),
        });
        let probes = Probes {
            db,
            database_endpoint: ":memory:".into(),
            database_required: true,
            queue_endpoint: "a test queue".into(),
            queue,
            webhooks: None,
            consumers: Some(worker.consumers()),
            check_timeout: Duration::from_secs(5),
        };
        (worker, probes)
    }

    async fn ask(probes: &web::Data<Probes>) -> (u16, Value) {
        let response = readyz(probes.clone()).await;
        let status = response.status().as_u16();
        let body = to_bytes(response.into_body()).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    /// Polls readiness until `status` answers, for at most five seconds.
    async fn until_status(probes: &web::Data<Probes>, status: u16) -> (u16, Value) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let answer = ask(probes).await;
            if answer.0 == status || std::time::Instant::now() > deadline {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn a_worker_whose_consumers_are_all_gone_is_not_ready_and_says_why() {
        let (worker, probes) = worker(usize::MAX).await;
        let probes = web::Data::new(probes);
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(worker.run(2, 4, Duration::from_millis(10), shutdown.clone()));

        let (status, body) = until_status(&probes, 503).await;

        assert_eq!(status, 503, "{body}");
        assert_eq!(body["database"], "ok");
        assert_eq!(body["queue"], "ok");
        assert_eq!(body["worker"]["status"], "unavailable");
        assert_eq!(body["worker"]["live_consumers"], 0);
        let detail = body["worker"]["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("no consumer is running"), "{body}");
        shutdown.cancel();
        running.await.unwrap();
        let (status, body) = ask(&probes).await;
        assert_eq!(status, 503);
        assert!(
            body["worker"]["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("not being restarted"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_worker_is_ready_once_its_consumers_run() {
        let (worker, probes) = worker(0).await;
        let probes = web::Data::new(probes);
        let (status, body) = ask(&probes).await;
        assert_eq!(status, 503, "not ready before the consumers start: {body}");
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(worker.run(2, 4, Duration::from_millis(10), shutdown.clone()));

        let (status, body) = until_status(&probes, 200).await;

        assert_eq!(status, 200, "{body}");
        assert_eq!(body["worker"]["status"], "ok");
        assert_eq!(body["worker"]["live_consumers"], 2);
        assert!(body["worker"].get("detail").is_none());
        shutdown.cancel();
        running.await.unwrap();
    }

    #[tokio::test]
    async fn a_receiver_only_process_is_ready_without_consumers() {
        let (_, mut probes) = worker(0).await;
        probes.consumers = None;
        let (status, body) = ask(&web::Data::new(probes)).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("worker").is_none());
    }
}
