//! The HubSpot endpoint handlers; each parses its request and answers from the world.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde_json::{Value, json};

use super::{
    HubSpotError, ObjectType, search, serve,
    store::{Origin, object_json},
};
use crate::simulator::{
    Endpoint,
    state::{Shared, World, rfc3339_ms},
};

/// Most inputs a batch call accepts.
const BATCH_MAX: usize = 100;
/// Most results a list page holds.
const LIST_MAX: usize = 100;

/// `GET /crm/v3/objects/{type}/{id}`.
pub(crate) async fn read(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (object_type, id) = path.into_inner();
    let query = pairs(&req);
    serve(&shared, &req, Endpoint::HubSpotRead, |world, _| {
        let kind = kind_of(&object_type)?;
        let id = resolve(
            world,
            kind,
            &id,
            first(&query, "idProperty"),
            flag(&query, "archived"),
        )
        .ok_or(HubSpotError::NotFound)?;
        let object = world
            .hubspot
            .get(kind, &id, flag(&query, "archived"))
            .ok_or(HubSpotError::NotFound)?;
        Ok((StatusCode::OK, object_json(kind, object, &properties(&query))))
    })
}

/// `GET /crm/v3/objects/{type}?limit=&after=&properties=`.
pub(crate) async fn list(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let object_type = path.into_inner();
    let query = pairs(&req);
    serve(&shared, &req, Endpoint::HubSpotList, |world, shared| {
        let kind = kind_of(&object_type)?;
        let limit = match first(&query, "limit") {
            None => 10,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=LIST_MAX).contains(l))
                .ok_or_else(|| HubSpotError::Validation(format!("limit must be between 1 and {LIST_MAX}")))?,
        };
        let after: u64 = first(&query, "after").and_then(|a| a.parse().ok()).unwrap_or(0);
        let asked = properties(&query);
        let mut page = world
            .hubspot
            .all(kind, flag(&query, "archived"))
            .filter(|o| o.id >= after);
        let results: Vec<Value> = page
            .by_ref()
            .take(limit)
            .map(|o| object_json(kind, o, &asked))
            .collect();
        let mut body = json!({ "results": results });
        if let Some(next) = page.next() {
            let link = format!(
                "{}/crm/v3/objects/{}?limit={limit}&after={}",
                shared.hubspot_base(),
                kind.path(),
                next.id
            );
            body["paging"] = json!({"next": {"after": next.id.to_string(), "link": link}});
        }
        Ok((StatusCode::OK, body))
    })
}

/// `POST /crm/v3/objects/{type}/batch/read`.
pub(crate) async fn batch_read(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let object_type = path.into_inner();
    serve(&shared, &req, Endpoint::HubSpotBatchRead, |world, _| {
        let kind = kind_of(&object_type)?;
        let started = world.tick();
        let body = parse(&body)?;
        let inputs = inputs(&body)?;
        let asked = string_list(body.get("properties"));
        let id_property = body.get("idProperty").and_then(Value::as_str);
        let mut results = Vec::new();
        let mut missing = Vec::new();
        for input in inputs {
            let id = input.get("id").and_then(scalar).unwrap_or_default();
            match resolve(world, kind, &id, id_property, false)
                .and_then(|id| world.hubspot.get(kind, &id, false))
            {
                Some(object) => results.push(object_json(kind, object, &asked)),
                None => missing.push(id),
            }
        }
        Ok(batch_reply(kind, "get", results, missing, started, world))
    })
}

/// `PATCH /crm/v3/objects/{type}/{id}`: our API writes, echoed as INTEGRATION events.
pub(crate) async fn update(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (object_type, id) = path.into_inner();
    serve(&shared, &req, Endpoint::HubSpotUpdate, |world, _| {
        let kind = kind_of(&object_type)?;
        let props = property_values(parse(&body)?.get("properties"))?;
        world
            .hubspot_write(kind, &id, &props, Origin::Api)
            .ok_or(HubSpotError::NotFound)?;
        let object = world
            .hubspot
            .get(kind, &id, false)
            .ok_or(HubSpotError::NotFound)?;
        let asked: Vec<String> = props.iter().map(|(k, _)| k.clone()).collect();
        Ok((StatusCode::OK, object_json(kind, object, &asked)))
    })
}

/// `POST /crm/v3/objects/{type}/batch/update`.
pub(crate) async fn batch_update(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let object_type = path.into_inner();
    serve(&shared, &req, Endpoint::HubSpotBatchUpdate, |world, _| {
        let kind = kind_of(&object_type)?;
        let started = world.tick();
        let body = parse(&body)?;
        let mut writes = Vec::new();
        for input in inputs(&body)? {
            let id = input.get("id").and_then(scalar).unwrap_or_default();
            writes.push((id, property_values(input.get("properties"))?));
        }
        let (mut results, mut missing) = (Vec::new(), Vec::new());
        for (id, props) in writes {
            let asked: Vec<String> = props.iter().map(|(k, _)| k.clone()).collect();
            match world.hubspot_write(kind, &id, &props, Origin::Api) {
                Some(()) => results.extend(
                    world
                        .hubspot
                        .get(kind, &id, false)
                        .map(|o| object_json(kind, o, &asked)),
                ),
                None => missing.push(id),
            }
        }
        Ok(batch_reply(kind, "update", results, missing, started, world))
    })
}

/// `POST /crm/v3/objects/{type}/search`.
pub(crate) async fn search(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let object_type = path.into_inner();
    serve(&shared, &req, Endpoint::HubSpotSearch, |world, _| {
        let kind = kind_of(&object_type)?;
        let body = parse(&body)?;
        Ok((StatusCode::OK, search::run(&world.hubspot, kind, &body)?))
    })
}

fn batch_reply(
    kind: ObjectType,
    verb: &str,
    results: Vec<Value>,
    missing: Vec<String>,
    started: i64,
    world: &mut World,
) -> (StatusCode, Value) {
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": rfc3339_ms(started),
        "completedAt": rfc3339_ms(world.tick()),
    });
    if missing.is_empty() {
        return (StatusCode::OK, body);
    }
    let name = kind.event_prefix().to_uppercase();
    body["numErrors"] = json!(1);
    body["errors"] = json!([{
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": format!("Could not {verb} some {name} objects, they may be deleted or not exist. Check that ids are valid."),
        "context": {"ids": missing},
    }]);
    (StatusCode::MULTI_STATUS, body)
}

/// The object id a request names, looked up by `idProperty` when one is given.
fn resolve(
    world: &World,
    kind: ObjectType,
    id: &str,
    id_property: Option<&str>,
    archived: bool,
) -> Option<String> {
    match id_property.filter(|p| *p != "hs_object_id") {
        None => Some(id.to_owned()),
        Some(property) => world
            .hubspot
            .all(kind, archived)
            .find(|o| o.props.get(property).is_some_and(|v| v.eq_ignore_ascii_case(id)))
            .map(|o| o.id.to_string()),
    }
}

fn kind_of(segment: &str) -> Result<ObjectType, HubSpotError> {
    ObjectType::parse(segment)
        .ok_or_else(|| HubSpotError::Validation(format!("Unable to infer object type from: {segment}")))
}

fn parse(body: &[u8]) -> Result<Value, HubSpotError> {
    serde_json::from_slice(body).map_err(|e| HubSpotError::Validation(format!("Invalid input JSON: {e}")))
}

fn inputs(body: &Value) -> Result<&Vec<Value>, HubSpotError> {
    let inputs = body
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| HubSpotError::Validation("inputs is required".into()))?;
    if inputs.len() > BATCH_MAX {
        return Err(HubSpotError::Validation(format!(
            "Batch input size of {} exceeds the limit of {BATCH_MAX}",
            inputs.len()
        )));
    }
    Ok(inputs)
}

/// A JSON scalar as text (ids and property values may come as numbers).
pub(crate) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `{name: value}` as written: `null` and `""` clear the property.
fn property_values(props: Option<&Value>) -> Result<Vec<(String, Option<String>)>, HubSpotError> {
    let props = props
        .and_then(Value::as_object)
        .ok_or_else(|| HubSpotError::Validation("properties is required".into()))?;
    Ok(props.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
}

/// A JSON array of strings.
pub(crate) fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(scalar).collect())
        .unwrap_or_default()
}

fn pairs(req: &HttpRequest) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

fn first<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn flag(query: &[(String, String)], key: &str) -> bool {
    first(query, key) == Some("true")
}

/// `properties=a,b` and `properties=a&properties=b`, both accepted.
fn properties(query: &[(String, String)]) -> Vec<String> {
    query
        .iter()
        .filter(|(k, _)| k == "properties")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}
