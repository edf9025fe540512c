//! `POST /crm/v3/objects/{type}/search`: filter groups (OR of ANDs), sorts and offset paging.

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::{
    HubSpotError, ObjectType,
    handlers::{scalar, string_list},
    store::{HsObject, HubSpotStore, object_json},
};

/// Most results one search page holds.
const PAGE_MAX: usize = 200;
/// Most results one query can page through.
const QUERY_MAX: usize = 10_000;

/// One filter of a group.
#[derive(Debug)]
struct Filter {
    property: String,
    operator: String,
    value: Option<String>,
    high_value: Option<String>,
    values: Vec<String>,
}

/// Runs a search body against the objects of one type.
pub(crate) fn run(store: &HubSpotStore, kind: ObjectType, body: &Value) -> Result<Value, HubSpotError> {
    let limit = match body.get("limit") {
        None | Some(Value::Null) => 10,
        Some(v) => v
            .as_u64()
            .map(|l| l as usize)
            .filter(|l| (1..=PAGE_MAX).contains(l))
            .ok_or_else(|| HubSpotError::Validation(format!("limit must be between 1 and {PAGE_MAX}")))?,
    };
    let after: usize = body
        .get("after")
        .and_then(scalar)
        .map(|a| {
            a.parse()
                .map_err(|_| HubSpotError::Validation("after must be a number".into()))
        })
        .transpose()?
        .unwrap_or(0);
    if after + limit > QUERY_MAX {
        return Err(HubSpotError::Validation(format!(
            "Search can page through at most {QUERY_MAX} results"
        )));
    }
    let groups = filter_groups(body)?;
    let query = body.get("query").and_then(Value::as_str).map(str::to_lowercase);
    let mut hits: Vec<&HsObject> = store
        .all(kind, false)
        .filter(|o| groups.is_empty() || groups.iter().any(|g| g.iter().all(|f| f.accepts(o))))
        .filter(|o| {
            query
                .as_deref()
                .is_none_or(|q| o.props.values().any(|v| v.to_lowercase().contains(q)))
        })
        .collect();
    if let Some((property, descending)) = first_sort(body) {
        hits.sort_by(|a, b| {
            let order =
                compare(&text_of(a, &property), &text_of(b, &property), &property).then(a.id.cmp(&b.id));
            if descending { order.reverse() } else { order }
        });
    }
    let total = hits.len();
    let asked = string_list(body.get("properties"));
    let results: Vec<Value> = hits
        .iter()
        .skip(after)
        .take(limit)
        .map(|o| object_json(kind, o, &asked))
        .collect();
    let mut out = json!({"total": total, "results": results});
    if after + limit < total {
        out["paging"] = json!({"next": {"after": (after + limit).to_string()}});
    }
    Ok(out)
}

fn filter_groups(body: &Value) -> Result<Vec<Vec<Filter>>, HubSpotError> {
    let Some(groups) = body.get("filterGroups").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    groups
        .iter()
        .map(|group| {
            group
                .get("filters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|f| {
                    let property = f.get("propertyName").and_then(Value::as_str);
                    let operator = f.get("operator").and_then(Value::as_str);
                    let (Some(property), Some(operator)) = (property, operator) else {
                        return Err(HubSpotError::Validation(
                            "each filter needs propertyName and operator".into(),
                        ));
                    };
                    Ok(Filter {
                        property: property.to_owned(),
                        operator: operator.to_uppercase(),
                        value: f.get("value").and_then(scalar),
                        high_value: f.get("highValue").and_then(scalar),
                        values: string_list(f.get("values")),
                    })
                })
                .collect()
        })
        .collect()
}

fn first_sort(body: &Value) -> Option<(String, bool)> {
    let sort = body.get("sorts")?.as_array()?.first()?;
    match sort {
        Value::String(s) => Some(match s.strip_prefix('-') {
            Some(p) => (p.to_owned(), true),
            None => (s.clone(), false),
        }),
        _ => Some((
            sort.get("propertyName")?.as_str()?.to_owned(),
            sort.get("direction").and_then(Value::as_str) == Some("DESCENDING"),
        )),
    }
}

impl Filter {
    fn accepts(&self, object: &HsObject) -> bool {
        let actual = text_of(object, &self.property);
        let cmp = |v: &Option<String>| match (&actual, v) {
            (Some(_), Some(_)) => Some(compare(&actual, v, &self.property)),
            _ => None,
        };
        match self.operator.as_str() {
            "EQ" => cmp(&self.value) == Some(Ordering::Equal),
            "NEQ" => cmp(&self.value) != Some(Ordering::Equal),
            "GT" => cmp(&self.value) == Some(Ordering::Greater),
            "GTE" => matches!(cmp(&self.value), Some(Ordering::Greater | Ordering::Equal)),
            "LT" => cmp(&self.value) == Some(Ordering::Less),
            "LTE" => matches!(cmp(&self.value), Some(Ordering::Less | Ordering::Equal)),
            "BETWEEN" => {
                matches!(cmp(&self.value), Some(Ordering::Greater | Ordering::Equal))
                    && matches!(cmp(&self.high_value), Some(Ordering::Less | Ordering::Equal))
            }
            "IN" => self
                .values
                .iter()
                .any(|v| cmp(&Some(v.clone())) == Some(Ordering::Equal)),
            "NOT_IN" => !self
                .values
                .iter()
                .any(|v| cmp(&Some(v.clone())) == Some(Ordering::Equal)),
            "HAS_PROPERTY" => actual.is_some(),
            "NOT_HAS_PROPERTY" => actual.is_none(),
            "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN" => {
                let token = self
                    .value
                    .as_deref()
                    .unwrap_or_default()
                    .trim_matches('*')
                    .to_lowercase();
                let found = actual.is_some_and(|a| a.to_lowercase().contains(&token));
                found == (self.operator == "CONTAINS_TOKEN")
            }
            _ => false,
        }
    }
}

fn is_date(property: &str) -> bool {
    matches!(
        property,
        "createdate" | "lastmodifieddate" | "hs_lastmodifieddate"
    )
}

/// A property's value as text; dates as Unix ms so they compare with ms filter values.
fn text_of(object: &HsObject, property: &str) -> Option<String> {
    match property {
        "createdate" => Some(object.created_ms.to_string()),
        "lastmodifieddate" | "hs_lastmodifieddate" => Some(object.updated_ms.to_string()),
        "hs_object_id" => Some(object.id.to_string()),
        _ => object.props.get(property).cloned(),
    }
}

/// Compares as numbers (dates also from RFC 3339) when both sides are, else case-insensitively.
fn compare(a: &Option<String>, b: &Option<String>, property: &str) -> Ordering {
    let number = |s: &str| {
        s.trim().parse::<f64>().ok().or_else(|| {
            is_date(property)
                .then(|| chrono::DateTime::parse_from_rfc3339(s.trim()).ok())
                .flatten()
                .map(|d| d.timestamp_millis() as f64)
        })
    };
    match (a.as_deref(), b.as_deref()) {
        (Some(a), Some(b)) => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => a.to_lowercase().cmp(&b.to_lowercase()),
        },
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}
