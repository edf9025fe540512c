//! A task's time: its estimate and the time tracked on it, held in ms as ClickUp's API returns
//! them (`time_estimate`, `time_spent` on the task), and the `taskTimeEstimateUpdated` and
//! `taskTimeTrackedUpdated` webhooks ClickUp sends when a person changes either.

use serde_json::{Value, json};

use super::{
    ClickUpError,
    store::{Actor, ClickUpStore},
};

impl ClickUpStore {
    /// Sets (or with `None` removes) a task's estimate as a UI user; the
    /// `taskTimeEstimateUpdated` event when it changed.
    pub(crate) fn set_time_estimate(
        &mut self,
        task_id: &str,
        estimate_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<Option<(String, Value)>, ClickUpError> {
        if estimate_ms.is_some_and(|ms| ms <= 0) {
            return Err(ClickUpError::BadValue("time estimate"));
        }
        let task = self.tasks.get_mut(task_id).ok_or(ClickUpError::TaskNotFound)?;
        let before = task.time_estimate_ms;
        if before == estimate_ms {
            return Ok(None);
        }
        task.time_estimate_ms = estimate_ms;
        task.updated_ms = now_ms;
        let list_id = task.list_id.clone();
        let as_text = |ms: Option<i64>| ms.map_or(Value::Null, |ms| json!(ms.to_string()));
        let (from, to) = (as_text(before), as_text(estimate_ms));
        let mut item = self.item(&list_id, "time_estimate", Actor::Ui, now_ms, from, to);
        item["data"] = json!({
            "time_estimate_string": estimate_ms.map(spoken),
            "old_time_estimate_string": before.map(spoken),
            "rolled_up_time_estimate": estimate_ms,
            "time_estimate": estimate_ms,
        });
        Ok(Some(self.event(
            "taskTimeEstimateUpdated",
            task_id,
            &list_id,
            Some(item),
        )))
    }

    /// Adds a time entry of `spent_ms` ending now, as a UI user tracking time; the
    /// `taskTimeTrackedUpdated` event, whose item carries the entry and the task's new total.
    pub(crate) fn track_time(
        &mut self,
        task_id: &str,
        spent_ms: i64,
        now_ms: i64,
    ) -> Result<(String, Value), ClickUpError> {
        if spent_ms <= 0 {
            return Err(ClickUpError::BadValue("time entry"));
        }
        let task = self.tasks.get_mut(task_id).ok_or(ClickUpError::TaskNotFound)?;
        task.time_spent_ms += spent_ms;
        task.updated_ms = now_ms;
        let (list_id, total) = (task.list_id.clone(), task.time_spent_ms);
        let mut item = self.item(
            &list_id,
            "time_spent",
            Actor::Ui,
            now_ms,
            Value::Null,
            Value::Null,
        );
        let interval_id = item["id"].clone();
        item["after"] = json!({
            "id": interval_id, "start": (now_ms - spent_ms).to_string(), "end": now_ms.to_string(),
            "time": spent_ms.to_string(), "source": "clickup", "date_added": now_ms.to_string(),
        });
        item["data"] = json!({"total_time": total.to_string(), "rollup_time": total.to_string()});
        let (webhook_id, mut body) = self.event("taskTimeTrackedUpdated", task_id, &list_id, Some(item));
        body["data"] = json!({"description": "Time Tracking Created", "interval_id": interval_id});
        Ok((webhook_id, body))
    }
}

/// How ClickUp words a duration: `2 hours 30 minutes`.
fn spoken(ms: i64) -> String {
    let minutes = ms / 60_000;
    let (hours, minutes) = (minutes / 60, minutes % 60);
    let unit = |n: i64, one: &str| match n {
        1 => format!("1 {one}"),
        n => format!("{n} {one}s"),
    };
    match (hours, minutes) {
        (0, m) => unit(m, "minute"),
        (h, 0) => unit(h, "hour"),
        (h, m) => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
    }
}

#[cfg(test)]
mod tests {
    use super::spoken;

    #[test]
    fn a_duration_is_worded_in_hours_and_minutes_as_clickup_words_it() {
        assert_eq!(spoken(9_000_000), "2 hours 30 minutes");
        assert_eq!(spoken(3_600_000), "1 hour");
        assert_eq!(spoken(60_000), "1 minute");
    }
}
