//! HubSpot's API: reads, paging, batch limits, search, rate limits and write echoes.

use serde_json::{Value, json};

use super::*;

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
async fn a_batch_update_writes_known_ids_and_reports_unknown_ones() {
    let sim = start(SimConfig::default());
    let id = sim.create_contact(&[("email", "a@x.com")]);
    sim.discard_pending();
    let body = json!({"inputs": [
        {"id": id, "properties": {"phone": "+34 600 000 002"}},
        {"id": "777", "properties": {"phone": "+34 600 000 003"}},
    ]});
    let r = hubspot_post(&sim, "/crm/v3/objects/contacts/batch/update", body).await;
    assert_eq!(r.status(), 207);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["properties"]["phone"], "+34 600 000 002");
    assert_eq!(body["errors"][0]["context"]["ids"], json!(["777"]));
    assert_eq!(sim.writes().len(), 1);
    assert_eq!(sim.pending_events()[0].body["changeSource"], "INTEGRATION");
}

#[tokio::test]
async fn the_daily_quota_refuses_with_the_daily_policy() {
    let mut config = SimConfig::default();
    config.limits.hubspot_daily = 1;
    let sim = start(config);
    assert_eq!(hubspot_get(&sim, "/crm/v3/objects/contacts").await.status(), 200);
    let r = hubspot_get(&sim, "/crm/v3/objects/contacts").await;
    assert_eq!(r.status(), 429);
    assert_eq!(
        header(&r, "X-HubSpot-RateLimit-Daily-Remaining").as_deref(),
        Some("0")
    );
    assert_eq!(r.json::<Value>().await.unwrap()["policyName"], "DAILY");
}
