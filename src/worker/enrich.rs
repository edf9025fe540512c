//! Thin events (a creation, a restore, a task created with no values) name an object but carry
//! none of its data: the worker reads the object's current state from the source before it
//! applies the event. HubSpot objects of one batch are read together (100 per call); ClickUp
//! has no batch read, so its tasks are fetched one by one, concurrently, under the token's pace.

use std::{collections::HashMap, sync::Arc};

use futures_util::future::join_all;
use serde_json::Value;

use crate::{
    domain::source::{ObjectKind, Source},
    queue::Envelope,
    saas::{Apis, SaasError, clickup::ClickUpApi, hubspot::HubSpotApi},
    sources::{self, EventEffect, OwnWrites, mapping::FieldMapping},
};

/// Why an event reporting our own write is stored and not applied (the timeline shows it so).
pub const ECHO: &str = "our own write coming back";

/// The API clients enrichment reads through; a source without one leaves its thin events
/// pending (`pending_enrichment`), as before any token was configured.
#[derive(Clone, Default)]
pub struct Enricher {
    hubspot: Option<Arc<HubSpotApi>>,
    clickup: Option<Arc<ClickUpApi>>,
    own: OwnWrites,
}

impl Enricher {
    /// Enrichment through whichever clients are configured.
    pub fn new(apis: &Apis) -> Self {
        Self {
            hubspot: apis.hubspot.clone(),
            clickup: apis.clickup.clone(),
            own: OwnWrites::default(),
        }
    }

    /// The same enricher recognising our own writes' echoes, which are stored and not applied.
    pub fn with_own_writes(mut self, own: OwnWrites) -> Self {
        self.own = own;
        self
    }

    /// What each event means, thin ones resolved to their object's current state: one result
    /// per event, in order. A thin event whose object no longer exists deletes its record.
    pub async fn effects(
        &self,
        events: &[&Envelope],
        mapping: &FieldMapping,
    ) -> Vec<Result<EventEffect, SaasError>> {
        let effects: Vec<EventEffect> = events
            .iter()
            .map(|env| {
                if self.own.made(env) {
                    EventEffect::Ignore { reason: ECHO.into() }
                } else {
                    sources::effect(env, mapping)
                }
            })
            .collect();
        let hubspot = self.read_hubspot(events, &effects, mapping).await;
        let clickup = self.read_clickup(events, &effects).await;
        events
            .iter()
            .zip(effects)
            .map(|(env, effect)| match effect {
                EventEffect::Thin { kind } => match env.source {
                    Source::HubSpot if self.hubspot.is_some() => match &hubspot {
                        Err(e) => Err(e.clone()),
                        Ok(objects) => Ok(match objects.get(&(kind, env.object_id.clone())) {
                            Some(object) => sources::hubspot::snapshot(object, kind, mapping),
                            None => EventEffect::Delete { kind },
                        }),
                    },
                    Source::ClickUp if self.clickup.is_some() => match clickup.get(&env.object_id) {
                        Some(Ok(task)) => Ok(sources::clickup::snapshot(task, mapping)),
                        Some(Err(SaasError::NotFound { .. })) => Ok(EventEffect::Delete { kind }),
                        Some(Err(e)) => Err(e.clone()),
                        None => Ok(EventEffect::Thin { kind }),
                    },
                    _ => Ok(EventEffect::Thin { kind }),
                },
                other => Ok(other),
            })
            .collect()
    }

    /// Every thin HubSpot object of the batch, read in one batch call per kind.
    async fn read_hubspot(
        &self,
        events: &[&Envelope],
        effects: &[EventEffect],
        mapping: &FieldMapping,
    ) -> Result<HashMap<(ObjectKind, String), Value>, SaasError> {
        let mut objects = HashMap::new();
        let Some(api) = &self.hubspot else {
            return Ok(objects);
        };
        for kind in [ObjectKind::Contact, ObjectKind::Company] {
            let mut ids: Vec<String> = events
                .iter()
                .zip(effects)
                .filter(|(env, effect)| {
                    env.source == Source::HubSpot && **effect == EventEffect::Thin { kind }
                })
                .map(|(env, _)| env.object_id.clone())
                .collect();
            if ids.is_empty() {
                continue;
            }
            ids.sort();
            ids.dedup();
            for object in api
                .batch_read(kind.as_str(), &ids, &mapping.hubspot_properties(kind.as_str()))
                .await?
            {
                if let Some(id) = object.get("id").and_then(sources::scalar_text) {
                    objects.insert((kind, id), object);
                }
            }
        }
        Ok(objects)
    }

    /// Every thin ClickUp task of the batch, fetched concurrently.
    async fn read_clickup(
        &self,
        events: &[&Envelope],
        effects: &[EventEffect],
    ) -> HashMap<String, Result<Value, SaasError>> {
        let Some(api) = &self.clickup else {
            return HashMap::new();
        };
        let mut ids: Vec<&str> = events
            .iter()
            .zip(effects)
            .filter(|(env, effect)| {
                env.source == Source::ClickUp && matches!(effect, EventEffect::Thin { .. })
            })
            .map(|(env, _)| env.object_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let tasks = join_all(ids.iter().map(|id| api.task(id))).await;
        ids.into_iter().map(str::to_owned).zip(tasks).collect()
    }
}
