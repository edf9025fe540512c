//! The simulator driven over HTTP, as the real API clients and the receiver will see it.

mod clickup;
mod hubspot;
mod receiver;
mod scenario;
mod sender;

use serde_json::Value;

use super::*;

pub(super) fn start(config: SimConfig) -> Simulator {
    Simulator::start(config).unwrap()
}

pub(super) fn http() -> reqwest::Client {
    reqwest::Client::new()
}

pub(super) async fn hubspot_get(sim: &Simulator, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", sim.hubspot_base()))
        .bearer_auth(&sim.config().hubspot_token)
        .send()
        .await
        .unwrap()
}

pub(super) async fn hubspot_post(sim: &Simulator, path: &str, body: Value) -> reqwest::Response {
    http()
        .post(format!("{}{path}", sim.hubspot_base()))
        .bearer_auth(&sim.config().hubspot_token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(super) async fn clickup(
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

pub(super) fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}
