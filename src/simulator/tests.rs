//! The simulator driven over HTTP, as the real API clients and the receiver will see it.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use super::*;
use crate::receiver::signature::{HubSpotHeaders, HubSpotRequest, verify_clickup, verify_hubspot};

fn start(config: SimConfig) -> Simulator {
    Simulator::start(config).unwrap()
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn hubspot_get(sim: &Simulator, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", sim.hubspot_base()))
        .bearer_auth(&sim.config().hubspot_token)
        .send()
        .await
        .unwrap()
}

async fn hubspot_post(sim: &Simulator, path: &str, body: Value) -> reqwest::Response {
    http()
        .post(format!("{}{path}", sim.hubspot_base()))
        .bearer_auth(&sim.config().hubspot_token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn clickup(
    sim: &Simulator,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = http()
        .request(method, format!("{}{path}", sim.clickup_base()))
        .header("Authorization", &sim.config().clickup_token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn list_paging_returns_every_contact_exactly_once() {
    let sim = start(SimConfig::default());
    let mut made: Vec<String> = (0..23)
        .map(|i| sim.create_contact(&[("email", &format!("p{i}@x.com"))]))
        .collect();
    let mut seen = Vec::new();
    let mut path = "/crm/v3/objects/contacts?limit=10&properties=email,tax_id".to_owned();
    loop {
        let page: Value = hubspot_get(&sim, &path).await.json().await.unwrap();
        for r in page["results"].as_array().unwrap() {
            assert_eq!(r["properties"]["tax_id"], Value::Null, "asked but unset is null");
            assert!(r["properties"]["hs_object_id"].is_string());
            seen.push(r["id"].as_str().unwrap().to_owned());
        }
        match page["paging"]["next"]["after"].as_str() {
            Some(after) => path = format!("/crm/v3/objects/contacts?limit=10&properties=email&after={after}"),
            None => break,
        }
    }
    made.sort();
    seen.sort();
    assert_eq!(seen, made);
    sim.stop().await;
}

#[tokio::test]
async fn a_read_of_an_unknown_contact_is_a_404_with_hubspots_error_body() {
    let sim = start(SimConfig::default());
    let r = hubspot_get(&sim, "/crm/v3/objects/0-1/999999").await;
    assert_eq!(r.status(), 404);
    assert!(header(&r, "X-HubSpot-RateLimit-Remaining").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["category"], "OBJECT_NOT_FOUND");
    assert_eq!(body["status"], "error");
}

#[tokio::test]
async fn a_batch_read_of_more_than_100_ids_is_refused_and_missing_ids_come_back_as_errors() {
    let sim = start(SimConfig::default());
    let id = sim.create_contact(&[("email", "a@x.com"), ("firstname", "Ana")]);
    let inputs: Vec<Value> = (0..101).map(|i| json!({"id": i.to_string()})).collect();
    let r = hubspot_post(
        &sim,
        "/crm/v3/objects/contacts/batch/read",
        json!({"inputs": inputs}),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["category"], "VALIDATION_ERROR");

    let body = json!({"properties": ["email"], "inputs": [{"id": id}, {"id": "4242"}]});
    let r = hubspot_post(&sim, "/crm/v3/objects/contacts/batch/read", body).await;
    assert_eq!(r.status(), 207);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["properties"]["email"], "a@x.com");
    assert_eq!(body["numErrors"], 1);
    assert_eq!(body["errors"][0]["context"]["ids"], json!(["4242"]));
}

#[tokio::test]
async fn the_101st_request_in_a_window_gets_429_with_no_remaining() {
    let sim = start(SimConfig::default());
    for i in 0..100 {
        let r = hubspot_get(&sim, "/crm/v3/objects/contacts").await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            header(&r, "X-HubSpot-RateLimit-Remaining").unwrap(),
            (99 - i).to_string()
        );
    }
    let r = hubspot_get(&sim, "/crm/v3/objects/contacts").await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "X-HubSpot-RateLimit-Remaining").as_deref(), Some("0"));
    assert_eq!(
        header(&r, "X-HubSpot-RateLimit-Interval-Milliseconds").as_deref(),
        Some("10000")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(body["errorType"], "RATE_LIMIT");
    assert_eq!(sim.rate_limited(), 1);
    assert_eq!(sim.calls(Endpoint::HubSpotList), 101);
}

#[tokio::test]
async fn a_wrong_token_is_refused_by_both_apis() {
    let sim = start(SimConfig::default());
    let r = http()
        .get(format!("{}/crm/v3/objects/contacts", sim.hubspot_base()))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["category"],
        "INVALID_AUTHENTICATION"
    );
    let r = http()
        .get(format!("{}/v2/task/x", sim.clickup_base()))
        .header("Authorization", format!("Bearer {}", sim.config().clickup_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["ECODE"], "OAUTH_025");
}

#[tokio::test]
async fn search_finds_contacts_modified_since_and_sends_no_rate_limit_headers() {
    let sim = start(SimConfig::default());
    let old = sim.create_contact(&[("email", "old@x.com")]);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let since = chrono::Utc::now().timestamp_millis();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let new = sim.create_contact(&[("email", "new@x.com")]);
    sim.update_contact(&old, &[("email", "Old@x.com")]).unwrap();
    let body = json!({
        "filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": since.to_string()}]}],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["email"], "limit": 200,
    });
    let r = hubspot_post(&sim, "/crm/v3/objects/contacts/search", body).await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "X-HubSpot-RateLimit-Remaining").is_none());
    let found: Value = r.json().await.unwrap();
    assert_eq!(found["total"], 2);
    let ids: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![new.as_str(), old.as_str()]);

    let by_email = json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "NEW@x.com"}]}]});
    let found: Value = hubspot_post(&sim, "/crm/v3/objects/contacts/search", by_email)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["results"][0]["id"], new.as_str());
    for _ in 0..5 {
        hubspot_post(&sim, "/crm/v3/objects/contacts/search", json!({})).await;
    }
    let r = hubspot_post(&sim, "/crm/v3/objects/contacts/search", json!({})).await;
    assert_eq!(r.status(), 429, "5 searches per second");
}

#[tokio::test]
async fn an_api_write_emits_an_integration_change_and_the_same_value_twice_emits_once() {
    let sim = start(SimConfig::default());
    let id = sim.create_contact(&[("email", "a@x.com")]);
    sim.discard_pending();
    for _ in 0..2 {
        let r = http()
            .patch(format!("{}/crm/v3/objects/contacts/{id}", sim.hubspot_base()))
            .bearer_auth(&sim.config().hubspot_token)
            .json(&json!({"properties": {"phone": "+34 600 000 001", "email": "a@x.com"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let events = sim.pending_events();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0].body;
    assert_eq!(e["subscriptionType"], "contact.propertyChange");
    assert_eq!(e["propertyName"], "phone");
    assert_eq!(e["changeSource"], "INTEGRATION");
    assert_eq!(e["sourceId"], sim.config().hubspot_app_id.to_string());
    assert_eq!(e["objectId"], id.parse::<u64>().unwrap());
    assert_eq!(sim.writes().len(), 4, "every write received is logged");
}

#[tokio::test]
async fn a_ui_change_emits_a_crm_ui_property_change_per_changed_property() {
    let sim = start(SimConfig::default());
    let id = sim.create_contact(&[("email", "a@x.com"), ("firstname", "Ana")]);
    let created: Vec<Value> = sim.pending_events().into_iter().map(|e| e.body).collect();
    assert_eq!(created[0]["subscriptionType"], "contact.creation");
    assert_eq!(created[0]["changeFlag"], "CREATED");
    sim.discard_pending();
    sim.update_contact(&id, &[("firstname", "Ana"), ("lastname", "Gil")])
        .unwrap();
    let events = sim.pending_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].body["changeSource"], "CRM_UI");
    assert_eq!(events[0].body["propertyValue"], "Gil");
    sim.delete_contact(&id).unwrap();
    assert_eq!(
        sim.pending_events()[1].body["subscriptionType"],
        "contact.deletion"
    );
    assert_eq!(
        hubspot_get(&sim, &format!("/crm/v3/objects/contacts/{id}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_task_reads_with_values_only_on_set_fields_and_drop_downs_as_orderindex() {
    let sim = start(SimConfig::default());
    let list = sim.clickup_list_id();
    let task = sim
        .create_task(
            &list,
            "Ana Gil",
            &[("Email", "ana@x.com"), ("Payment status", "Pending")],
        )
        .unwrap();
    let r = clickup(&sim, reqwest::Method::GET, &format!("/v2/task/{task}"), None).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["name"], "Ana Gil");
    assert_eq!(body["status"]["status"], "to do");
    let field = |name: &str| {
        body["custom_fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(field("Email")["value"], "ana@x.com");
    assert!(field("Phone").get("value").is_none());
    assert_eq!(field("Payment status")["value"], 1);
    let r = clickup(&sim, reqwest::Method::GET, "/v2/task/nope", None).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["ECODE"], "ITEM_013");
}

#[tokio::test]
async fn a_drop_down_write_takes_an_option_uuid_and_refuses_an_unknown_one() {
    let sim = start(SimConfig::default());
    let list = sim.clickup_list_id();
    let task = sim.create_task(&list, "Ana Gil", &[]).unwrap();
    sim.discard_pending();
    let field = sim.clickup_field_id("Project status").unwrap();
    let option = sim.clickup_option_id("Project status", "Done").unwrap();
    let path = format!("/v2/task/{task}/field/{field}");
    let r = clickup(&sim, reqwest::Method::POST, &path, Some(json!({"value": option}))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({}));
    assert_eq!(sim.task(&task).unwrap().1["Project status"], 2);
    let r = clickup(
        &sim,
        reqwest::Method::POST,
        &path,
        Some(json!({"value": uuid::Uuid::new_v4()})),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["ECODE"], "FIELD_011");

    let events = sim.pending_events();
    assert_eq!(events.len(), 1);
    let item = &events[0].body["history_items"][0];
    assert_eq!(events[0].body["event"], "taskUpdated");
    assert_eq!(item["field"], "custom_field");
    assert_eq!(item["custom_field"]["id"], field.as_str());
    assert_eq!(item["after"], option.as_str());
    assert_eq!(item["user"]["id"], sim.config().clickup_user_id);
}

#[tokio::test]
async fn a_clickup_list_scan_pages_by_100_and_filters_by_update_time() {
    let sim = start(SimConfig::default());
    let list = sim.clickup_list_id();
    for i in 0..150 {
        sim.create_task(&list, &format!("T {i}"), &[]).unwrap();
    }
    let page = |n: u32| {
        let (sim, path) = (&sim, format!("/v2/list/{list}/task?page={n}"));
        async move { clickup(sim, reqwest::Method::GET, &path, None).await }
    };
    let first: Value = page(0).await.json().await.unwrap();
    let second: Value = page(1).await.json().await.unwrap();
    assert_eq!(first["tasks"].as_array().unwrap().len(), 100);
    assert_eq!(first["last_page"], false);
    assert_eq!(second["tasks"].as_array().unwrap().len(), 50);
    assert_eq!(second["last_page"], true);
    let since: i64 = first["tasks"][0]["date_updated"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let newer: Value = clickup(
        &sim,
        reqwest::Method::GET,
        &format!("/v2/list/{list}/task?date_updated_gt={since}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        newer["tasks"].as_array().unwrap().len(),
        0,
        "page 0 starts with the newest"
    );
    let fields: Value = clickup(
        &sim,
        reqwest::Method::GET,
        &format!("/v2/list/{list}/field"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let dropdown = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Payment status")
        .unwrap();
    assert_eq!(dropdown["type_config"]["options"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn clickups_429_carries_the_reset_time_in_unix_seconds() {
    let mut config = SimConfig::default();
    config.limits.clickup_per_window = 2;
    let sim = start(config);
    let list = sim.clickup_list_id();
    for _ in 0..2 {
        let r = clickup(
            &sim,
            reqwest::Method::GET,
            &format!("/v2/list/{list}/field"),
            None,
        )
        .await;
        assert_eq!(r.status(), 200);
        assert!(header(&r, "X-RateLimit-Limit").is_some());
    }
    let r = clickup(
        &sim,
        reqwest::Method::GET,
        &format!("/v2/list/{list}/field"),
        None,
    )
    .await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "X-RateLimit-Remaining").as_deref(), Some("0"));
    let reset: i64 = header(&r, "X-RateLimit-Reset").unwrap().parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((now..=now + 61).contains(&reset), "{reset} vs {now}");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"err": "Rate limit reached", "ECODE": "APP_002"})
    );
}

#[tokio::test]
async fn injected_faults_answer_429_then_503_then_recover() {
    let sim = start(SimConfig::default());
    sim.inject(Fault::RateLimit { count: 1 });
    sim.inject(Fault::ServerError { count: 1 });
    let r = hubspot_get(&sim, "/crm/v3/objects/contacts").await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "X-HubSpot-RateLimit-Remaining").as_deref(), Some("0"));
    let list = sim.clickup_list_id();
    let r = clickup(
        &sim,
        reqwest::Method::GET,
        &format!("/v2/list/{list}/field"),
        None,
    )
    .await;
    assert_eq!(r.status(), 503);
    assert_eq!(hubspot_get(&sim, "/crm/v3/objects/contacts").await.status(), 200);
    assert_eq!(sim.rate_limited(), 1);
    assert_eq!(sim.total_calls(), 3);
}

/// What the stub receiver got: path, headers, body.
type Received = Arc<Mutex<Vec<(String, Vec<(String, String)>, Vec<u8>)>>>;

/// A stub receiver that records every request and answers `statuses` in turn (then 200).
async fn receiver(statuses: Vec<u16>) -> (String, Received) {
    let got: Received = Arc::default();
    let answers = Arc::new(Mutex::new(statuses));
    let (g, a) = (got.clone(), answers.clone());
    let server = HttpServer::new(move || {
        let (g, a) = (g.clone(), a.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (g, a) = (g.clone(), a.clone());
            async move {
                let headers = req
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                    .collect();
                g.lock()
                    .unwrap()
                    .push((req.path().to_owned(), headers, body.to_vec()));
                let mut a = a.lock().unwrap();
                let status = if a.is_empty() { 200 } else { a.remove(0) };
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), got)
}

fn get<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_sender_signs_hubspot_batches_and_clickup_events_as_the_receiver_verifies_them() {
    let (target, got) = receiver(vec![500]).await;
    let sim = start(SimConfig::default());
    sim.set_sender(SenderConfig {
        target: Some(target),
        public_base_url: Some("https://sync.example.com".into()),
        batch_size: 2,
        ..SenderConfig::default()
    });
    sim.create_contact(&[("email", "a@x.com"), ("firstname", "Ana")]);
    let task = sim.create_task(&sim.clickup_list_id(), "Ana Gil", &[]).unwrap();
    sim.set_field(&task, "Phone", "+34 600 000 001").unwrap();
    let report = sim.flush().await.unwrap();
    assert_eq!(report.events, 6);
    assert_eq!(
        (report.requests, report.sent, report.retried, report.failed),
        (5, 5, 1, 0)
    );

    let got = got.lock().unwrap();
    let secret = sim.config().hubspot_client_secret.clone();
    let hubspot: Vec<_> = got.iter().filter(|(p, _, _)| p == "/webhooks/hubspot").collect();
    assert_eq!(hubspot.len(), 2, "3 events in batches of 2");
    for (path, headers, body) in &hubspot {
        let version = verify_hubspot(
            &secret,
            &HubSpotHeaders {
                signature_v3: get(headers, "X-HubSpot-Signature-v3"),
                timestamp: get(headers, "X-HubSpot-Request-Timestamp"),
                signature: get(headers, "X-HubSpot-Signature"),
                version: get(headers, "X-HubSpot-Signature-Version"),
            },
            &HubSpotRequest {
                method: "POST",
                public_base_url: "https://sync.example.com",
                path_and_query: path,
                body,
            },
            chrono::Utc::now().timestamp_millis(),
            300_000,
        );
        assert_eq!(version, Ok(crate::receiver::signature::HubSpotVersion::V3));
    }
    let clickup: Vec<_> = got
        .iter()
        .filter(|(p, _, _)| p.starts_with("/webhooks/clickup/"))
        .collect();
    assert_eq!(clickup.len(), 4, "created, status, updated, and one retry");
    let secrets = sim.clickup_webhook_secrets();
    let (webhook_id, secret) = secrets.split_once('=').unwrap();
    for (path, headers, body) in clickup {
        assert_eq!(path, &format!("/webhooks/clickup/{webhook_id}"));
        let secret = crate::receiver::signature::WebhookSecret::new(secret.to_owned());
        assert_eq!(verify_clickup(&secret, get(headers, "X-Signature"), body), Ok(()));
    }
    assert_eq!(
        sim.webhook_health(webhook_id).unwrap().status,
        HealthStatus::Active
    );
}

#[tokio::test]
async fn a_clickup_event_that_keeps_failing_is_dropped_and_the_webhook_marked_failing_until_a_success() {
    let (target, got) = receiver(vec![500; 5]).await;
    let sim = start(SimConfig::default());
    sim.set_sender(SenderConfig {
        target: Some(target),
        retry_delay: Duration::from_millis(1),
        ..SenderConfig::default()
    });
    let list = sim.clickup_list_id();
    let id = sim.clickup_webhook_id(&list).unwrap();
    let task = sim.create_task(&list, "Ana Gil", &[]).unwrap();
    sim.discard_pending();
    sim.delete_task(&task).unwrap();
    let report = sim.flush().await.unwrap();
    assert_eq!(
        (report.requests, report.sent, report.retried, report.failed),
        (1, 0, 4, 1)
    );
    assert_eq!(got.lock().unwrap().len(), 5, "ClickUp tries an event 5 times");
    let failing = WebhookHealth {
        status: HealthStatus::Failing,
        fail_count: 1,
    };
    assert_eq!(sim.webhook_health(&id), Some(failing));

    sim.create_task(&list, "Luis Gil", &[]).unwrap();
    assert_eq!(sim.flush().await.unwrap().sent, 2);
    assert_eq!(
        sim.webhook_health(&id).unwrap(),
        WebhookHealth {
            status: HealthStatus::Active,
            fail_count: 0
        }
    );

    sim.set_webhook_health(
        &id,
        WebhookHealth {
            status: HealthStatus::Suspended,
            fail_count: 100,
        },
    )
    .unwrap();
    sim.create_task(&list, "Eva Gil", &[]).unwrap();
    let report = sim.flush().await.unwrap();
    assert_eq!((report.skipped, report.requests), (2, 0));
}

#[tokio::test]
async fn duplicates_resend_the_same_body() {
    let (target, got) = receiver(Vec::new()).await;
    let sim = start(SimConfig::default());
    sim.set_sender(SenderConfig {
        target: Some(target),
        duplicate_rate: 1.0,
        shuffle: true,
        burst: 4,
        ..SenderConfig::default()
    });
    sim.create_contact(&[("email", "a@x.com")]);
    let report = sim.flush().await.unwrap();
    assert_eq!((report.requests, report.duplicated, report.sent), (2, 1, 2));
    let got = got.lock().unwrap();
    assert_eq!(got[0].2, got[1].2);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_population_and_its_truth_adds_up() {
    let scenario = Scenario {
        clients: 60,
        collisions: 2,
        ..Scenario::default()
    };
    let (a, b) = (start(SimConfig::default()), start(SimConfig::default()));
    let ta = a.seed_silently(&scenario).unwrap();
    let tb = b.seed_silently(&scenario).unwrap();
    assert_eq!(ta, tb);
    assert!(a.pending_events().is_empty(), "silent seeding sends nothing");
    let (pair_contact, pair_task) = &ta.in_both_pairs[0];
    assert_eq!(
        a.hubspot_object(ObjectType::Contact, pair_contact),
        b.hubspot_object(ObjectType::Contact, pair_contact)
    );
    assert_eq!(a.task(pair_task), b.task(pair_task));

    assert_eq!(ta.people.len(), 60);
    assert_eq!(ta.in_both_pairs.len(), 36);
    assert_eq!(
        ta.in_both_pairs.len() + ta.hubspot_only.len() + ta.clickup_only.len(),
        ta.expected_clients
    );
    assert_eq!(
        ta.hubspot_contacts,
        ta.in_both_pairs.len() + ta.hubspot_only.len()
    );
    assert_eq!(
        ta.clickup_tasks,
        ta.in_both_pairs.len() + ta.clickup_only.len() + 2
    );
    assert_eq!(ta.expected_field_conflicts, ta.typo_pairs + ta.phone_conflicts);
    assert_eq!(ta.expected_key_collisions, 2);
    let emails: std::collections::HashSet<_> = ta.people.iter().map(|p| &p.email).collect();
    let phones: std::collections::HashSet<_> = ta.people.iter().map(|p| &p.phone).collect();
    assert_eq!(
        (emails.len(), phones.len()),
        (60, 60),
        "no accidental shared keys"
    );

    let c = start(SimConfig::default());
    let tc = c.seed_with_webhooks(&scenario).unwrap();
    assert_eq!(tc, ta);
    let creations = c
        .pending_events()
        .iter()
        .filter(|e| e.body["subscriptionType"] == "contact.creation" || e.body["event"] == "taskCreated")
        .count();
    assert_eq!(creations, ta.hubspot_contacts + ta.clickup_tasks);
}

#[tokio::test]
async fn a_pair_in_both_systems_shares_a_key_and_a_collision_task_carries_two_peoples_keys() {
    let sim = start(SimConfig::default());
    let truth = sim.seed_silently(&Scenario::default()).unwrap();
    for (contact, task) in &truth.in_both_pairs {
        let h = sim.hubspot_object(ObjectType::Contact, contact).unwrap();
        let (_, t) = sim.task(task).unwrap();
        let email = h.get("email").is_some_and(|e| t.get("Email") == Some(&json!(e)));
        let tax = h
            .get("tax_id")
            .is_some_and(|k| t.get("Tax ID") == Some(&json!(k)));
        assert!(email || tax, "{h:?} vs {t:?}");
    }
    let (task, a, b) = &truth.collision_tasks[0];
    let (_, t) = sim.task(task).unwrap();
    assert_eq!(
        t["Email"],
        json!(sim.hubspot_object(ObjectType::Contact, a).unwrap()["email"])
    );
    assert_eq!(
        t["Tax ID"],
        json!(sim.hubspot_object(ObjectType::Contact, b).unwrap()["tax_id"])
    );
}
