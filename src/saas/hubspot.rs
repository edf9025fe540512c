//! HubSpot CRM v3 objects (contacts, companies, and deals for projects): read one or many, page through all, find
//! what changed since a time, and write properties back.

use std::{collections::BTreeMap, num::NonZeroU32};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::{Value, json};

use super::{Caller, Limits, SaasError, url};
use crate::domain::source::Source;

/// Most ids or updates HubSpot takes in one batch call.
pub const BATCH_LIMIT: usize = 100;

/// Largest page the list and search endpoints return.
const PAGE_SIZE: usize = 100;

/// Search stops paging at 10,000 results per query; past this the query is re-anchored.
pub const SEARCH_WINDOW: usize = 9_900;

/// Search requests per second: HubSpot allows 5 per account and its search answers carry no
/// rate-limit headers to pace by, so one is left as room.
const SEARCH_PER_SECOND: NonZeroU32 = NonZeroU32::MIN.saturating_add(3);

/// One page of objects and the cursor of the next, if any.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Objects as HubSpot returns them (`id`, `properties`, `updatedAt`, `archived`).
    pub objects: Vec<Value>,
    /// `paging.next.after`; `None` on the last page.
    pub next: Option<String>,
}

/// A HubSpot account's CRM, through one paced caller.
#[derive(Debug)]
pub struct HubSpotApi {
    caller: Caller,
    base: String,
    /// Search has its own, lower limit (5 requests per second per account).
    search: DefaultDirectRateLimiter,
}

/// The URL path segment of a record kind.
fn objects_of(kind: &str) -> Result<&'static str, SaasError> {
    match kind {
        "contact" => Ok("contacts"),
        "company" => Ok("companies"),
        "deal" => Ok("deals"),
        other => Err(SaasError::Setup {
            system: Source::HubSpot,
            reason: format!("`{other}` is not a synced HubSpot object"),
        }),
    }
}

/// The property that holds an object's last change time, which search filters on.
fn modified_property(kind: &str) -> &'static str {
    if kind == "contact" {
        "lastmodifieddate"
    } else {
        "hs_lastmodifieddate"
    }
}

impl HubSpotApi {
    /// A client of the account behind `token` (a private app's access token).
    pub fn new(base: &str, token: &str, limits: Limits) -> Result<Self, SaasError> {
        let search = Quota::per_second(SEARCH_PER_SECOND);
        Ok(Self {
            caller: Caller::new(Source::HubSpot, &format!("Bearer {token}"), limits)?,
            base: base.trim_end_matches('/').to_owned(),
            search: RateLimiter::direct(search),
        })
    }

    fn url(&self, kind: &str, rest: &[&str]) -> Result<reqwest::Url, SaasError> {
        let objects = objects_of(kind)?;
        let mut segments = vec!["crm", "v3", "objects", objects];
        segments.extend_from_slice(rest);
        url(Source::HubSpot, &self.base, &segments)
    }

    /// The current state of up to any number of objects, read 100 per call; ids that no longer
    /// exist are simply absent from the result.
    pub async fn batch_read(
        &self,
        kind: &str,
        ids: &[String],
        properties: &[String],
    ) -> Result<Vec<Value>, SaasError> {
        let url = self.url(kind, &["batch", "read"])?;
        let mut objects = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_LIMIT) {
            let body = json!({
                "properties": properties,
                "inputs": chunk.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
            });
            let answer = self
                .caller
                .send("batch_read", |http| http.post(url.clone()).json(&body))
                .await?;
            objects.extend(results(&answer, "batch_read")?);
        }
        Ok(objects)
    }

    /// One page of every object of a kind, in id order; `after` is the previous page's cursor.
    pub async fn list(
        &self,
        kind: &str,
        properties: &[String],
        after: Option<&str>,
    ) -> Result<Page, SaasError> {
        let url = self.url(kind, &[])?;
        let limit = PAGE_SIZE.to_string();
        let properties = properties.join(",");
        let answer = self
            .caller
            .send("list", |http| {
                let mut query = vec![
                    ("limit", limit.as_str()),
                    ("archived", "false"),
                    ("properties", properties.as_str()),
                ];
                if let Some(after) = after {
                    query.push(("after", after));
                }
                http.get(url.clone()).query(&query)
            })
            .await?;
        page(&answer, "list")
    }

    /// One page of the objects changed at or after `since_ms`, oldest change first.
    pub async fn modified_since(
        &self,
        kind: &str,
        properties: &[String],
        since_ms: i64,
        after: Option<&str>,
    ) -> Result<Page, SaasError> {
        let url = self.url(kind, &["search"])?;
        let modified = modified_property(kind);
        let mut body = json!({
            "filterGroups": [{"filters": [
                {"propertyName": modified, "operator": "GTE", "value": since_ms.to_string()}
            ]}],
            "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
            "properties": properties,
            "limit": PAGE_SIZE,
        });
        if let Some(after) = after {
            body["after"] = json!(after);
        }
        self.search.until_ready().await;
        let answer = self
            .caller
            .send("search", |http| http.post(url.clone()).json(&body))
            .await?;
        page(&answer, "search")
    }

    /// Writes properties of several objects, 100 per call.
    pub async fn batch_update(
        &self,
        kind: &str,
        updates: &[(String, BTreeMap<String, Option<String>>)],
    ) -> Result<(), SaasError> {
        let url = self.url(kind, &["batch", "update"])?;
        for chunk in updates.chunks(BATCH_LIMIT) {
            let body = json!({
                "inputs": chunk
                    .iter()
                    .map(|(id, properties)| json!({"id": id, "properties": properties}))
                    .collect::<Vec<_>>(),
            });
            self.caller
                .send("batch_update", |http| http.post(url.clone()).json(&body))
                .await?;
        }
        Ok(())
    }
}

fn results(answer: &Value, call: &'static str) -> Result<Vec<Value>, SaasError> {
    answer
        .get("results")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| SaasError::Decode {
            system: Source::HubSpot,
            call,
            reason: "no `results` array".into(),
        })
}

fn page(answer: &Value, call: &'static str) -> Result<Page, SaasError> {
    Ok(Page {
        objects: results(answer, call)?,
        next: answer.pointer("/paging/next/after").and_then(|a| {
            a.as_str()
                .map(str::to_owned)
                .or_else(|| a.as_u64().map(|n| n.to_string()))
        }),
    })
}
