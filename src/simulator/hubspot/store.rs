//! HubSpot's CRM objects in memory, and the webhook events their changes cause.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::ObjectType;
use crate::simulator::state::rfc3339_ms;

/// One CRM object (contact or company).
#[derive(Debug, Clone)]
pub(crate) struct HsObject {
    /// Numeric id (the API shows it as a string).
    pub id: u64,
    /// Property values; an unset property is absent.
    pub props: BTreeMap<String, String>,
    /// Creation time, Unix ms.
    pub created_ms: i64,
    /// Last change, Unix ms.
    pub updated_ms: i64,
    /// Deleted (archived) objects stay readable with `archived=true`.
    pub archived: bool,
}

/// Who made a change, which decides `changeSource` and `sourceId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A person in HubSpot's UI.
    Ui,
    /// An app through the API (our service).
    Api,
}

/// The objects of both types, and the counters that name new ones and their events.
#[derive(Debug)]
pub(crate) struct HubSpotStore {
    objects: BTreeMap<(ObjectType, u64), HsObject>,
    next_id: u64,
    next_event_id: u64,
    app_id: u64,
    portal_id: u64,
}

/// Properties every object reports, whatever was asked.
const SYSTEM: [&str; 3] = ["createdate", "lastmodifieddate", "hs_object_id"];

/// The id a UI user's changes carry in `sourceId`.
const UI_USER: &str = "userId:74322246";

impl HubSpotStore {
    /// An empty portal.
    pub(crate) fn new(app_id: u64, portal_id: u64) -> Self {
        Self {
            objects: BTreeMap::new(),
            next_id: 1001,
            next_event_id: 100,
            app_id,
            portal_id,
        }
    }

    /// Live or archived object by id.
    pub(crate) fn get(&self, kind: ObjectType, id: &str, archived: bool) -> Option<&HsObject> {
        let id: u64 = id.trim().parse().ok()?;
        self.objects.get(&(kind, id)).filter(|o| o.archived == archived)
    }

    /// Objects of a type in id order.
    pub(crate) fn all(&self, kind: ObjectType, archived: bool) -> impl Iterator<Item = &HsObject> {
        self.objects
            .range((kind, 0)..=(kind, u64::MAX))
            .map(|(_, o)| o)
            .filter(move |o| o.archived == archived)
    }

    /// Creates an object; returns its id and the events HubSpot would send.
    pub(crate) fn create(
        &mut self,
        kind: ObjectType,
        props: &[(String, Option<String>)],
        origin: Origin,
        now_ms: i64,
    ) -> (String, Vec<Value>) {
        let id = self.next_id;
        self.next_id += 1;
        let mut object = HsObject {
            id,
            props: BTreeMap::new(),
            created_ms: now_ms,
            updated_ms: now_ms,
            archived: false,
        };
        let mut events = vec![self.lifecycle(kind, id, "creation", "CREATED", now_ms)];
        for (name, value) in props {
            if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                object.props.insert(name.clone(), v.clone());
                events.push(self.property_change(kind, id, name, Some(v), origin, now_ms));
            }
        }
        self.objects.insert((kind, id), object);
        (id.to_string(), events)
    }

    /// Applies property values; only changed values produce events. `None` when unknown.
    pub(crate) fn update(
        &mut self,
        kind: ObjectType,
        id: &str,
        props: &[(String, Option<String>)],
        origin: Origin,
        now_ms: i64,
    ) -> Option<Vec<Value>> {
        let key = (kind, self.get(kind, id, false)?.id);
        let mut changed = Vec::new();
        let object = self.objects.get_mut(&key)?;
        for (name, value) in props {
            let value = value.as_ref().filter(|v| !v.is_empty());
            if object.props.get(name) == value {
                continue;
            }
            match value {
                Some(v) => object.props.insert(name.clone(), v.clone()),
                None => object.props.remove(name),
            };
            changed.push((name.clone(), value.cloned()));
        }
        if !changed.is_empty() {
            object.updated_ms = now_ms;
        }
        Some(
            changed
                .into_iter()
                .map(|(name, value)| {
                    self.property_change(kind, key.1, &name, value.as_deref(), origin, now_ms)
                })
                .collect(),
        )
    }

    /// Archives an object; the deletion event, or `None` when unknown.
    pub(crate) fn delete(&mut self, kind: ObjectType, id: &str, now_ms: i64) -> Option<Value> {
        let key = (kind, self.get(kind, id, false)?.id);
        let object = self.objects.get_mut(&key)?;
        object.archived = true;
        object.updated_ms = now_ms;
        Some(self.lifecycle(kind, key.1, "deletion", "DELETED", now_ms))
    }

    fn envelope(&mut self, kind: ObjectType, action: &str, id: u64, now_ms: i64) -> Value {
        self.next_event_id += 1;
        let subscription_id = kind.subscription_base()
            + match action {
                "creation" => 1,
                "deletion" => 2,
                _ => 3,
            };
        json!({
            "eventId": self.next_event_id,
            "subscriptionId": subscription_id,
            "portalId": self.portal_id,
            "appId": self.app_id,
            "occurredAt": now_ms,
            "subscriptionType": format!("{}.{action}", kind.event_prefix()),
            "attemptNumber": 0,
            "objectId": id,
        })
    }

    fn lifecycle(&mut self, kind: ObjectType, id: u64, action: &str, flag: &str, now_ms: i64) -> Value {
        let mut event = self.envelope(kind, action, id, now_ms);
        event["changeFlag"] = json!(flag);
        event
    }

    fn property_change(
        &mut self,
        kind: ObjectType,
        id: u64,
        name: &str,
        value: Option<&str>,
        origin: Origin,
        now_ms: i64,
    ) -> Value {
        let mut event = self.envelope(kind, "propertyChange", id, now_ms);
        event["propertyName"] = json!(name);
        event["propertyValue"] = json!(value.unwrap_or_default());
        let (source, source_id) = match origin {
            Origin::Ui => ("CRM_UI", UI_USER.to_owned()),
            Origin::Api => ("INTEGRATION", self.app_id.to_string()),
        };
        event["changeSource"] = json!(source);
        event["sourceId"] = json!(source_id);
        event
    }
}

/// The API's JSON for an object: the asked properties (unset ones as `null`, or the type's
/// defaults when none were asked) plus the system properties.
pub(crate) fn object_json(kind: ObjectType, object: &HsObject, asked: &[String]) -> Value {
    let mut props = serde_json::Map::new();
    let defaults: Vec<String> = kind
        .default_properties()
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    let names = if asked.is_empty() { &defaults } else { asked };
    for name in names.iter().map(String::as_str).chain(SYSTEM) {
        props.insert(name.to_owned(), system_or(object, name));
    }
    props.insert(
        kind.modified_property().to_owned(),
        json!(rfc3339_ms(object.updated_ms)),
    );
    json!({
        "id": object.id.to_string(),
        "properties": props,
        "createdAt": rfc3339_ms(object.created_ms),
        "updatedAt": rfc3339_ms(object.updated_ms),
        "archived": object.archived,
    })
}

/// A property's value, computing the system ones.
pub(crate) fn system_or(object: &HsObject, name: &str) -> Value {
    match name {
        "createdate" => json!(rfc3339_ms(object.created_ms)),
        "lastmodifieddate" | "hs_lastmodifieddate" => json!(rfc3339_ms(object.updated_ms)),
        "hs_object_id" => json!(object.id.to_string()),
        _ => object.props.get(name).map_or(Value::Null, |v| json!(v)),
    }
}
