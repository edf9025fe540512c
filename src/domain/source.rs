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
