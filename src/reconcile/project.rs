//! A project's golden values from its two sides, by field ownership: ClickUp runs the work
//! (name, product type, status, time, due date), HubSpot bills it (amount, payment status).
//! The owner's value wins; the other side fills a field the owner leaves empty; both holding
//! different values is a mismatch for an operator, as for clients. A value write-back put on a
//! side is the owner's, not that side's opinion: it raises no mismatch, and stays marked as ours
//! while the side reports it back unchanged. Pure: no I/O.

use serde::{Deserialize, Serialize};

use super::{
    field::{FieldSet, FieldValue},
    merge::WRITE_BACK_EVENT,
};
use crate::domain::source::Source;

/// A project field that sources can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectField {
    /// The project's name (the task's name).
    Name,
    /// What is being delivered (a custom field in ClickUp).
    ProductType,
    /// Where the work stands (the task's status).
    Status,
    /// Planned time, in milliseconds.
    TimeEstimate,
    /// Tracked time, in milliseconds.
    TimeSpent,
    /// When the work is due, Unix ms.
    DueDate,
    /// Whether the project is paid.
    PaymentStatus,
    /// What the project is billed, in cents.
    Amount,
}

/// Why a raw project value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectValueError {
    /// A time or date that is not a whole, non-negative number of milliseconds.
    #[error("`{0}` is not a number of milliseconds")]
    NotMilliseconds(String),
    /// An amount that is not a decimal number with at most two decimals.
    #[error("`{0}` is not an amount (digits, optionally `.` and up to two decimals)")]
    NotAnAmount(String),
}

impl ProjectField {
    /// Every field, in a stable order.
    pub const ALL: [ProjectField; 8] = [
        ProjectField::Name,
        ProjectField::ProductType,
        ProjectField::Status,
        ProjectField::TimeEstimate,
        ProjectField::TimeSpent,
        ProjectField::DueDate,
        ProjectField::PaymentStatus,
        ProjectField::Amount,
    ];

    /// Stable snake_case name used in rows, conflicts and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectField::Name => "name",
            ProjectField::ProductType => "product_type",
            ProjectField::Status => "status",
            ProjectField::TimeEstimate => "time_estimate",
            ProjectField::TimeSpent => "time_spent",
            ProjectField::DueDate => "due_date",
            ProjectField::PaymentStatus => "payment_status",
            ProjectField::Amount => "amount",
        }
    }

    /// Parses a stored field name.
    pub fn parse(name: &str) -> Option<ProjectField> {
        ProjectField::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The system whose value wins: HubSpot for billing, ClickUp for the work.
    pub fn owner(self) -> Source {
        match self {
            ProjectField::PaymentStatus | ProjectField::Amount => Source::HubSpot,
            _ => Source::ClickUp,
        }
    }

    /// The system write-back copies the owner's value to: the deal learns the work's status and
    /// time, the task the billing; name, product type and due date stay where they are.
    pub fn written_to(self) -> Option<Source> {
        match self {
            ProjectField::Status | ProjectField::TimeEstimate | ProjectField::TimeSpent => {
                Some(Source::HubSpot)
            }
            ProjectField::PaymentStatus | ProjectField::Amount => Some(Source::ClickUp),
            ProjectField::Name | ProjectField::ProductType | ProjectField::DueDate => None,
        }
    }

    /// A raw value as stored: trimmed text, milliseconds as digits, amounts as cents; blank
    /// clears.
    pub fn normalize(self, raw: Option<&str>) -> Result<Option<String>, ProjectValueError> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        match self {
            ProjectField::TimeEstimate | ProjectField::TimeSpent | ProjectField::DueDate => raw
                .parse::<u64>()
                .map(|ms| Some(ms.to_string()))
                .map_err(|_| ProjectValueError::NotMilliseconds(raw.to_owned())),
            ProjectField::Amount => cents(raw)
                .map(|c| Some(c.to_string()))
                .ok_or_else(|| ProjectValueError::NotAnAmount(raw.to_owned())),
            _ => Ok(Some(raw.split_whitespace().collect::<Vec<_>>().join(" "))),
        }
    }

    /// Whether two stored values say the same (text ignores case).
    pub fn same(self, a: &str, b: &str) -> bool {
        match self {
            ProjectField::Name
            | ProjectField::ProductType
            | ProjectField::Status
            | ProjectField::PaymentStatus => a.to_lowercase() == b.to_lowercase(),
            _ => a == b,
        }
    }
}

/// `1500`, `1500.5`, `1,500.50` or `1500,50` as cents; `None` for anything else.
fn cents(raw: &str) -> Option<i64> {
    let plain: String = raw.chars().filter(|c| !matches!(c, ' ' | '€' | '$')).collect();
    // A comma followed by exactly two digits at the end is a decimal comma; any other comma
    // groups thousands.
    let plain = match plain.rsplit_once(',') {
        Some((whole, decimals)) if decimals.len() == 2 && !plain.contains('.') => {
            format!("{whole}.{decimals}")
        }
        _ => plain.replace(',', ""),
    };
    let (whole, decimals) = plain.split_once('.').unwrap_or((plain.as_str(), ""));
    if whole.is_empty() || decimals.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !decimals.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let decimals: i64 = format!("{decimals:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(decimals)
}

/// What one side (ClickUp's task or HubSpot's deal) last said about each field.
pub type ProjectSide = FieldSet<ProjectField>;

/// Two sides holding different values for one field: the owner's is kept, an operator decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectMismatch {
    /// Which field.
    pub field: ProjectField,
    /// HubSpot's value.
    pub hubspot: String,
    /// ClickUp's value.
    pub clickup: String,
}

/// A project's golden values and what its sides disagree on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectMerge {
    /// Every field that has a value, with the winning value.
    pub golden: Vec<(ProjectField, String)>,
    /// Fields both sides hold with different values.
    pub mismatches: Vec<ProjectMismatch>,
}

impl ProjectMerge {
    /// The golden value of a field, if any.
    pub fn value(&self, field: ProjectField) -> Option<&str> {
        self.golden
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }
}

/// The golden values of a project from what each side last said.
pub fn merge_project(clickup: &ProjectSide, hubspot: &ProjectSide) -> ProjectMerge {
    let mut out = ProjectMerge::default();
    for field in ProjectField::ALL {
        let from_clickup = clickup.value(field);
        let from_hubspot = hubspot.value(field);
        let (owner, other) = match field.owner() {
            Source::ClickUp => (from_clickup, from_hubspot),
            Source::HubSpot => (from_hubspot, from_clickup),
        };
        if let Some(value) = owner.or(other) {
            out.golden.push((field, value.to_owned()));
        }
        let not_owner = match field.owner() {
            Source::ClickUp => hubspot.get(field),
            Source::HubSpot => clickup.get(field),
        };
        // What write-back put on the other side is the owner's word, however old.
        let ours = not_owner.is_some_and(|v| v.event == WRITE_BACK_EVENT);
        if !ours
            && let (Some(hubspot), Some(clickup)) = (from_hubspot, from_clickup)
            && !field.same(hubspot, clickup)
        {
            out.mismatches.push(ProjectMismatch {
                field,
                hubspot: hubspot.to_owned(),
                clickup: clickup.to_owned(),
            });
        }
    }
    out
}

/// One raw value a source reported for a project field, at a time, from an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectChange {
    /// Which field.
    pub field: ProjectField,
    /// The raw value; `None` clears.
    pub raw: Option<String>,
}

/// Applies what a side reported at `at_ms` by `event`: values that do not normalize are
/// skipped and returned with the reason, so the caller can log them. A value write-back put
/// there, reported back unchanged (a source reports a whole object), stays marked as ours.
pub fn apply_changes(
    side: &mut ProjectSide,
    changes: &[ProjectChange],
    at_ms: i64,
    event: &str,
) -> Vec<(ProjectField, ProjectValueError)> {
    let mut refused = Vec::new();
    for change in changes {
        match change.field.normalize(change.raw.as_deref()) {
            Ok(value) => {
                let ours = side.get(change.field).is_some_and(|held| {
                    held.event == WRITE_BACK_EVENT
                        && matches!((&held.value, &value), (Some(a), Some(b)) if change.field.same(a, b))
                });
                side.apply(
                    change.field,
                    FieldValue {
                        value,
                        at_ms,
                        event: if ours { WRITE_BACK_EVENT } else { event }.to_owned(),
                    },
                );
            }
            Err(e) => refused.push((change.field, e)),
        }
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(pairs: &[(ProjectField, &str)], at_ms: i64) -> ProjectSide {
        let mut s = ProjectSide::default();
        let changes: Vec<ProjectChange> = pairs
            .iter()
            .map(|(field, raw)| ProjectChange {
                field: *field,
                raw: Some((*raw).to_owned()),
            })
            .collect();
        assert!(apply_changes(&mut s, &changes, at_ms, "e").is_empty());
        s
    }

    #[test]
    fn clickup_owns_the_work_and_hubspot_owns_the_billing() {
        let clickup = side(
            &[
                (ProjectField::Status, "in progress"),
                (ProjectField::Amount, "100"),
            ],
            1,
        );
        let hubspot = side(
            &[(ProjectField::Status, "done"), (ProjectField::Amount, "250.50")],
            2,
        );
        let merged = merge_project(&clickup, &hubspot);
        assert_eq!(merged.value(ProjectField::Status), Some("in progress"));
        assert_eq!(merged.value(ProjectField::Amount), Some("25050"));
    }

    #[test]
    fn a_differing_value_from_the_side_that_does_not_own_the_field_is_a_mismatch() {
        let clickup = side(&[(ProjectField::PaymentStatus, "Pending")], 1);
        let hubspot = side(&[(ProjectField::PaymentStatus, "Paid")], 2);
        let merged = merge_project(&clickup, &hubspot);
        assert_eq!(
            merged.mismatches,
            vec![ProjectMismatch {
                field: ProjectField::PaymentStatus,
                hubspot: "Paid".into(),
                clickup: "Pending".into(),
            }]
        );
        assert_eq!(merged.value(ProjectField::PaymentStatus), Some("Paid"));
    }

    #[test]
    fn the_side_that_does_not_own_a_field_fills_it_while_the_owner_has_none() {
        let clickup = side(&[(ProjectField::Amount, "1,200.00")], 1);
        let merged = merge_project(&clickup, &ProjectSide::default());
        assert_eq!(merged.value(ProjectField::Amount), Some("120000"));
        assert!(merged.mismatches.is_empty());
    }

    #[test]
    fn text_that_differs_only_in_case_is_no_mismatch() {
        let clickup = side(&[(ProjectField::Status, "In Progress")], 1);
        let hubspot = side(&[(ProjectField::Status, "in progress")], 1);
        assert!(merge_project(&clickup, &hubspot).mismatches.is_empty());
    }

    #[test]
    fn amounts_read_as_cents_and_nonsense_is_refused_with_its_reason() {
        let amount = |raw| ProjectField::Amount.normalize(Some(raw));
        assert_eq!(amount("1500"), Ok(Some("150000".into())));
        assert_eq!(amount("1500.5"), Ok(Some("150050".into())));
        assert_eq!(
            amount("1.500,25"),
            Err(ProjectValueError::NotAnAmount("1.500,25".into()))
        );
        assert_eq!(amount("1500,25"), Ok(Some("150025".into())));
        assert_eq!(amount("abc"), Err(ProjectValueError::NotAnAmount("abc".into())));
        assert_eq!(
            ProjectField::TimeSpent.normalize(Some("-3")),
            Err(ProjectValueError::NotMilliseconds("-3".into()))
        );
        assert_eq!(ProjectField::DueDate.normalize(Some("  ")), Ok(None));
    }

    fn written_back(side: &mut ProjectSide, field: ProjectField, value: &str, at_ms: i64) {
        side.apply(
            field,
            FieldValue {
                value: Some(value.to_owned()),
                at_ms,
                event: WRITE_BACK_EVENT.to_owned(),
            },
        );
    }

    #[test]
    fn a_value_write_back_put_on_the_other_side_is_no_mismatch_when_the_owner_moves_on() {
        let clickup = side(&[(ProjectField::Status, "in progress")], 30);
        let mut hubspot = ProjectSide::default();
        written_back(&mut hubspot, ProjectField::Status, "to do", 20);
        let merged = merge_project(&clickup, &hubspot);
        assert!(merged.mismatches.is_empty(), "{merged:?}");
        assert_eq!(merged.value(ProjectField::Status), Some("in progress"));
    }

    #[test]
    fn a_value_reported_back_unchanged_stays_ours_and_a_changed_one_is_the_sides_own() {
        let mut clickup = ProjectSide::default();
        written_back(&mut clickup, ProjectField::PaymentStatus, "pending", 10);
        let report = |raw: &str| ProjectChange {
            field: ProjectField::PaymentStatus,
            raw: Some(raw.to_owned()),
        };
        apply_changes(&mut clickup, &[report("Pending")], 20, "task-read");
        let held = clickup.get(ProjectField::PaymentStatus).expect("held");
        assert_eq!((held.event.as_str(), held.at_ms), (WRITE_BACK_EVENT, 20));

        apply_changes(&mut clickup, &[report("Overdue")], 30, "task-edit");
        let hubspot = side(&[(ProjectField::PaymentStatus, "Pending")], 25);
        assert_eq!(
            merge_project(&clickup, &hubspot).mismatches.len(),
            1,
            "a person's change in ClickUp is ClickUp's opinion again"
        );
    }

    #[test]
    fn write_back_carries_the_work_to_the_deal_and_the_billing_to_the_task() {
        let to = |f: ProjectField| f.written_to();
        assert_eq!(to(ProjectField::Status), Some(Source::HubSpot));
        assert_eq!(to(ProjectField::TimeSpent), Some(Source::HubSpot));
        assert_eq!(to(ProjectField::Amount), Some(Source::ClickUp));
        assert_eq!(to(ProjectField::Name), None);
        for field in ProjectField::ALL {
            assert_eq!(ProjectField::parse(field.as_str()), Some(field));
            assert!(
                field.written_to() != Some(field.owner()),
                "{field:?} is never written to its owner"
            );
        }
    }

    #[test]
    fn an_older_report_never_overwrites_a_newer_one() {
        let mut s = side(&[(ProjectField::Status, "done")], 20);
        apply_changes(
            &mut s,
            &[ProjectChange {
                field: ProjectField::Status,
                raw: Some("to do".into()),
            }],
            10,
            "old",
        );
        assert_eq!(s.value(ProjectField::Status), Some("done"));
    }
}
