//! The ClickUp endpoint handlers; each parses its request and answers from the world.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{
    ClickUpError,
    json::{field_json, task_json, webhook_json},
    scan::Scan,
    serve,
    store::Actor,
};
use crate::simulator::{Endpoint, state::Shared};

/// `GET /v2/task/{task_id}`.
pub(crate) async fn get_task(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let task_id = path.into_inner();
    serve(&shared, &req, Endpoint::ClickUpGetTask, |world, _| {
        let task = world
            .clickup
            .tasks
            .get(&task_id)
            .ok_or(ClickUpError::TaskNotFound)?;
        Ok(task_json(&world.clickup, task))
    })
}

/// `POST /v2/task/{task_id}/field/{field_id}` with `{value}`: our API writes.
pub(crate) async fn set_field(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (task_id, field_id) = path.into_inner();
    serve(&shared, &req, Endpoint::ClickUpSetField, |world, _| {
        let body: Value = serde_json::from_slice(&body).map_err(|_| ClickUpError::BadBody)?;
        let value = body.get("value").ok_or(ClickUpError::BadBody)?;
        write(world, &task_id, &field_id, value)
    })
}

/// `DELETE /v2/task/{task_id}/field/{field_id}`: clears a value.
pub(crate) async fn clear_field(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (task_id, field_id) = path.into_inner();
    serve(&shared, &req, Endpoint::ClickUpSetField, |world, _| {
        write(world, &task_id, &field_id, &Value::Null)
    })
}

fn write(
    world: &mut crate::simulator::state::World,
    task_id: &str,
    field_id: &str,
    value: &Value,
) -> super::Reply {
    if !world.clickup.fields.iter().any(|f| f.id == field_id) {
        return Err(ClickUpError::FieldNotFound);
    }
    world.clickup_write(task_id, field_id, value, Actor::Api)?;
    Ok(json!({}))
}

/// `GET /v2/list/{list_id}/task?page=&date_updated_gt=&order_by=&reverse=&include_closed=`.
pub(crate) async fn list_tasks(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let list_id = path.into_inner();
    let scan = Scan::parse(
        &web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default(),
    );
    serve(&shared, &req, Endpoint::ClickUpListTasks, |world, _| {
        if !world.clickup.has_list(&list_id) {
            return Err(ClickUpError::ListNotFound);
        }
        Ok(scan.run(&world.clickup, &list_id))
    })
}

/// `GET /v2/list/{list_id}/field`.
pub(crate) async fn list_fields(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let list_id = path.into_inner();
    serve(&shared, &req, Endpoint::ClickUpListFields, |world, _| {
        if !world.clickup.has_list(&list_id) {
            return Err(ClickUpError::ListNotFound);
        }
        let fields: Vec<Value> = world.clickup.fields.iter().map(field_json).collect();
        Ok(json!({ "fields": fields }))
    })
}

/// `GET /v2/team/{team_id}/webhook`.
pub(crate) async fn webhooks(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let team_id = path.into_inner();
    serve(&shared, &req, Endpoint::ClickUpWebhooks, |world, shared| {
        if team_id != world.clickup.team_id {
            return Err(ClickUpError::TeamNotFound);
        }
        let target = world.sender.target.clone().unwrap_or_default();
        let hooks: Vec<Value> = world
            .clickup
            .webhooks
            .iter()
            .map(|w| {
                let endpoint = format!("{}/webhooks/clickup/{}", target.trim_end_matches('/'), w.id);
                webhook_json(&world.clickup, w, &endpoint, shared.config.clickup_user_id)
            })
            .collect();
        Ok(json!({ "webhooks": hooks }))
    })
}
