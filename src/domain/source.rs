//! The systems clientsync listens to.

use serde::{Deserialize, Serialize};

/// Which SaaS system an event or record came from; decides field precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The CRM: source of truth, wins every field it has.
    HubSpot,
    /// The project tool: fills fields HubSpot leaves empty.
    ClickUp,
}

impl Source {
    /// Stable lowercase name used in ids, rows and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::HubSpot => "hubspot",
            Source::ClickUp => "clickup",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hubspot" => Ok(Source::HubSpot),
            "clickup" => Ok(Source::ClickUp),
            other => Err(format!("unknown source `{other}` (expected hubspot or clickup)")),
        }
    }
}

/// The kind of object a source record mirrors. HubSpot contact and company ids are separate
/// namespaces, so a record's external id is `kind:id`; two objects of one source and kind are
/// two entities until that source merges them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// A HubSpot contact: a person.
    Contact,
    /// A HubSpot company.
    Company,
    /// A ClickUp task in a client list.
    Task,
}

impl ObjectKind {
    /// Stable lowercase name used in external ids, rows and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Contact => "contact",
            ObjectKind::Company => "company",
            ObjectKind::Task => "task",
        }
    }
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ObjectKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "contact" => Ok(ObjectKind::Contact),
            "company" => Ok(ObjectKind::Company),
            "task" => Ok(ObjectKind::Task),
            other => Err(format!(
                "unknown object kind `{other}` (expected contact, company or task)"
            )),
        }
    }
}
