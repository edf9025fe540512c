//! ClickUp's API: tasks, list scans, drop-down writes, rate limits, auth and injected faults.

use serde_json::{Value, json};

use super::*;

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

#[tokio::test]
async fn an_api_field_write_of_the_same_value_twice_emits_one_task_updated() {
    let sim = start(SimConfig::default());
    let task = sim.create_task(&sim.clickup_list_id(), "Ana Gil", &[]).unwrap();
    sim.discard_pending();
    let field = sim.clickup_field_id("Tax ID").unwrap();
    let path = format!("/v2/task/{task}/field/{field}");
    for _ in 0..2 {
        let r = clickup(
            &sim,
            reqwest::Method::POST,
            &path,
            Some(json!({"value": "12345678Z"})),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let events = sim.pending_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].body["history_items"][0]["after"], "12345678Z");
    assert_eq!(sim.writes().len(), 2);
    assert_eq!(sim.calls(Endpoint::ClickUpSetField), 2);
}

#[tokio::test]
async fn a_tasks_estimate_and_tracked_time_are_served_in_ms_and_each_change_sends_its_webhook() {
    let sim = start(SimConfig::default());
    let task = sim.create_task(&sim.clickup_list_id(), "Ana Gil", &[]).unwrap();
    let read = || async {
        let r = clickup(&sim, reqwest::Method::GET, &format!("/v2/task/{task}"), None).await;
        r.json::<Value>().await.unwrap()
    };
    let fresh = read().await;
    assert_eq!(
        (&fresh["time_estimate"], &fresh["time_spent"]),
        (&Value::Null, &Value::Null)
    );
    sim.discard_pending();
    let hours = |h: u64| std::time::Duration::from_secs(h * 3600);

    sim.set_time_estimate(&task, Some(hours(2))).unwrap();
    sim.set_time_estimate(&task, Some(hours(2))).unwrap();
    sim.track_time(&task, hours(1)).unwrap();
    sim.track_time(&task, hours(1) / 2).unwrap();

    let body = read().await;
    assert_eq!(body["time_estimate"], 7_200_000);
    assert_eq!(body["time_spent"], 5_400_000);
    assert_eq!(
        sim.task_time(&task),
        Some((Some(hours(2)), hours(1) + hours(1) / 2))
    );
    assert!(body["date_updated"].as_str().unwrap() > fresh["date_updated"].as_str().unwrap());
    let events: Vec<Value> = sim.pending_events().into_iter().map(|e| e.body).collect();
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        names,
        [
            "taskTimeEstimateUpdated",
            "taskTimeTrackedUpdated",
            "taskTimeTrackedUpdated"
        ],
        "an unchanged estimate sends nothing"
    );
    let estimate = &events[0]["history_items"][0];
    assert_eq!(
        (&estimate["field"], &estimate["before"], &estimate["after"]),
        (&json!("time_estimate"), &Value::Null, &json!("7200000"))
    );
    assert_eq!(estimate["data"]["time_estimate_string"], "2 hours");
    let tracked = &events[2]["history_items"][0];
    assert_eq!(tracked["field"], "time_spent");
    assert_eq!(tracked["after"]["time"], "1800000");
    assert_eq!(tracked["data"]["total_time"], "5400000");
    assert_eq!(events[2]["data"]["interval_id"], tracked["after"]["id"]);
    assert!(
        sim.track_time(&task, std::time::Duration::ZERO).is_err(),
        "an empty entry is refused"
    );
}
