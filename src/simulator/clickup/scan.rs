//! `GET /v2/list/{id}/task` query semantics: closed tasks hidden unless asked, date windows,
//! ordering (newest first, `reverse=true` flips it) and pages of 100 from 0.

use serde_json::{Value, json};

use super::{json::task_json, store::ClickUpStore, store::Task};

/// Tasks per page, as ClickUp pages.
const PAGE_SIZE: usize = 100;

/// A parsed list-scan query.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    page: usize,
    include_closed: bool,
    updated: (Option<i64>, Option<i64>),
    created: (Option<i64>, Option<i64>),
    order_by: String,
    reverse: bool,
}

impl Scan {
    /// Reads the query pairs ClickUp documents (unknown ones are ignored).
    pub(crate) fn parse(query: &[(String, String)]) -> Self {
        let get = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let number = |key: &str| get(key).and_then(|v| v.parse::<i64>().ok());
        Self {
            page: number("page").unwrap_or(0).max(0) as usize,
            include_closed: get("include_closed") == Some("true"),
            updated: (number("date_updated_gt"), number("date_updated_lt")),
            created: (number("date_created_gt"), number("date_created_lt")),
            order_by: get("order_by").unwrap_or("created").to_owned(),
            reverse: get("reverse") == Some("true"),
        }
    }

    /// The `{tasks, last_page}` answer for one list.
    pub(crate) fn run(&self, store: &ClickUpStore, list_id: &str) -> Value {
        let within = |v: i64, (gt, lt): (Option<i64>, Option<i64>)| {
            gt.is_none_or(|t| v > t) && lt.is_none_or(|t| v < t)
        };
        let mut tasks: Vec<&Task> = store
            .tasks
            .values()
            .filter(|t| t.list_id == list_id && (self.include_closed || !t.status.is_closed()))
            .filter(|t| within(t.updated_ms, self.updated) && within(t.created_ms, self.created))
            .collect();
        let key = |t: &Task| match self.order_by.as_str() {
            "updated" => (t.updated_ms, t.id.clone()),
            "id" => (0, t.id.clone()),
            _ => (t.created_ms, t.id.clone()),
        };
        tasks.sort_by_key(|t| std::cmp::Reverse(key(t)));
        if self.reverse {
            tasks.reverse();
        }
        let start = self.page.saturating_mul(PAGE_SIZE);
        let page: Vec<Value> = tasks
            .iter()
            .skip(start)
            .take(PAGE_SIZE)
            .map(|t| task_json(store, t))
            .collect();
        json!({"tasks": page, "last_page": start + PAGE_SIZE >= tasks.len()})
    }
}
