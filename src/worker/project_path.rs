//! The worker's project path: events about ClickUp project tasks and HubSpot deals, routed
//! away from the client engine and applied in their object's turn.

use super::{Worker, guarded, settled_batch::Tally};
use crate::{
    engine::{Outcome, ProcessError},
    projects::{self, ProjectEvent},
    queue::{Delivery, Envelope},
};

impl Worker {
    /// Settles, one by one on the project path, the project events among `decoded`; returns
    /// the rest for the client path. A routing failure is that message's failure.
    pub(super) async fn settle_projects(
        &self,
        decoded: Vec<(Delivery, Envelope)>,
        tally: &mut Tally,
    ) -> Vec<(Delivery, Envelope)> {
        let Some(projects) = &self.projects else {
            return decoded;
        };
        let mut rest = Vec::with_capacity(decoded.len());
        for (delivery, env) in decoded {
            let attempt = delivery.attempt;
            match guarded(projects.route(&self.db, &env)).await {
                Ok(Ok(None)) => rest.push((delivery, env)),
                Ok(Ok(Some(event))) => {
                    let work = self.apply_project(&env, event, attempt);
                    tally.add(self.settle_decoded(delivery, &env, work).await);
                }
                Ok(Err(e)) => tally.add(self.settle_decoded(delivery, &env, async { Err(e) }).await),
                // Routed again, guarded, where the panic is settled as this message's failure.
                Err(_) => {
                    let work = self.enrich_and_apply(&env, attempt);
                    tally.add(self.settle_decoded(delivery, &env, work).await);
                }
            }
        }
        rest
    }

    /// A project event's work once routed: applied in its object's turn, outlasting an outage.
    pub(super) async fn apply_project(
        &self,
        env: &Envelope,
        event: ProjectEvent,
        attempt: u32,
    ) -> Result<Outcome, ProcessError> {
        let event = &event;
        self.outlasting(|| async move {
            let _turn = self.objects.stripe(env).lock().await;
            self.bounded(Box::pin(async {
                let _writing = self.writes.take().await;
                projects::apply(&self.db, env, event, attempt).await
            }))
            .await
        })
        .await
    }
}
