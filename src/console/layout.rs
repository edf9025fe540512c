//! What every signed-in page shows around its content: the navigation, who is signed in, the
//! logout button, and the session's CSRF token for forms and htmx.

use chrono::{DateTime, Utc};
use entity::operators::Role;

use super::assets;
use crate::{access::sessions::Session, domain::actor::role_name};

/// The console's pages, for the navigation's "you are here".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Needs attention.
    Attention,
    /// Open conflicts.
    Conflicts,
    /// Client search and client pages.
    Clients,
    /// Dead and recent events, the outbox, bulk jobs.
    Events,
    /// Operators (admin).
    Operators,
    /// Audit log (admin).
    Audit,
    /// Reports.
    Reports,
    /// Import runs.
    Imports,
}

impl Nav {
    /// The page's name in paths and templates.
    pub fn as_str(self) -> &'static str {
        match self {
            Nav::Attention => "attention",
            Nav::Conflicts => "conflicts",
            Nav::Clients => "clients",
            Nav::Events => "events",
            Nav::Operators => "operators",
            Nav::Audit => "audit",
            Nav::Reports => "reports",
            Nav::Imports => "imports",
        }
    }
}

/// The frame of a signed-in page.
pub struct Chrome {
    /// Who is signed in.
    pub operator: String,
    /// Their role, as spelled in the API.
    pub role: &'static str,
    /// Whether they may act on conflicts (action buttons are shown).
    pub steward: bool,
    /// Whether they may manage operators and read the audit log.
    pub admin: bool,
    /// The session's CSRF token.
    pub csrf: String,
    /// The stylesheet's path.
    pub css: &'static str,
    /// htmx's path.
    pub htmx: &'static str,
    /// The icon's path.
    pub icon: &'static str,
    /// The keyboard shortcuts' path.
    pub keys: &'static str,
    /// Which page this is.
    pub nav: Nav,
}

impl Chrome {
    /// The frame for `session` on page `nav`.
    pub fn new(session: &Session, nav: Nav) -> Self {
        let role = session.actor.role();
        Self {
            operator: session.actor.name().to_owned(),
            role: role_name(role),
            steward: role >= Role::Steward,
            admin: role >= Role::Admin,
            csrf: session.csrf.clone(),
            css: assets::stylesheet(),
            htmx: assets::htmx(),
            icon: assets::icon(),
            keys: assets::keys(),
            nav,
        }
    }

    /// `aria-current` for a navigation link: "page" on the page shown.
    pub fn current(&self, page: &str) -> &'static str {
        if page == self.nav.as_str() {
            "page"
        } else {
            "false"
        }
    }
}

/// A time as pages show it: to the minute, in UTC (operators may sit in several time zones).
pub fn when(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".to_owned())
}
