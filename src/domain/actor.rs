//! Who acts on the golden list: an operator through the API or console, the CLI, or the
//! bootstrap token that may only create the first admin. The identity is what is recorded,
//! never a name a caller chose to send.

use std::fmt;

use entity::operators::Role;
use uuid::Uuid;

use super::DomainError;

/// Names the service keeps for itself, so an operator can never pose as it.
const RESERVED: [&str; 3] = ["clientsync", "bootstrap", "system"];

/// An operator's login name: 1–64 printable characters, no spaces at the ends, not reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperatorName(String);

impl OperatorName {
    /// Checks a name given on the CLI or by an admin.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        let printable = !name.is_empty()
            && name.chars().count() <= 64
            && !name.chars().any(|c| c.is_control() || c == ':');
        if !printable {
            return Err(DomainError::InvalidOperatorName(
                "1-64 printable characters, without `:`".into(),
            ));
        }
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            return Err(DomainError::InvalidOperatorName(format!(
                "`{name}` is reserved for the service"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OperatorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The channel an action came through, recorded beside who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The operator API, with a personal token.
    Api,
    /// The web console, with a session.
    Console,
    /// The `clientsync` command line on a host with database access.
    Cli,
    /// The bootstrap token from the environment, which may only create the first admin.
    Bootstrap,
}

impl Via {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Console => "console",
            Via::Cli => "cli",
            Via::Bootstrap => "bootstrap",
        }
    }
}

/// The identity behind a request or a command, with what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    id: Option<Uuid>,
    name: String,
    role: Role,
    via: Via,
}

impl Actor {
    /// An operator found by token or password.
    pub fn operator(id: Uuid, name: &str, role: Role, via: Via) -> Self {
        Self {
            id: Some(id),
            name: name.to_owned(),
            role,
            via,
        }
    }

    /// Someone at the command line: whoever can run it can already reach the database, so the
    /// CLI acts as admin and records the login name it ran under.
    pub fn cli(login: Option<&str>) -> Self {
        let login = login
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.chars().any(char::is_control))
            .unwrap_or("unknown");
        Self {
            id: None,
            name: format!("cli:{}", login.chars().take(60).collect::<String>()),
            role: Role::Admin,
            via: Via::Cli,
        }
    }

    /// The bootstrap token's holder, before any admin exists.
    pub fn bootstrap() -> Self {
        Self {
            id: None,
            name: "bootstrap".to_owned(),
            role: Role::Admin,
            via: Via::Bootstrap,
        }
    }

    /// The operator's id; none for the CLI and the bootstrap token.
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    /// The name recorded on what this actor changes.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The channel.
    pub fn via(&self) -> Via {
        self.via
    }

    /// Whether the role covers what an action needs; roles are ordered viewer < steward < admin.
    pub fn may(&self, needed: Role) -> bool {
        self.role >= needed
    }
}

/// The name of a role as the API and CLI spell it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Viewer => "viewer",
        Role::Steward => "steward",
        Role::Admin => "admin",
    }
}

/// Reads a role as the API and CLI spell it.
pub fn parse_role(raw: &str) -> Result<Role, DomainError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "viewer" => Ok(Role::Viewer),
        "steward" => Ok(Role::Steward),
        "admin" => Ok(Role::Admin),
        other => Err(DomainError::InvalidRole(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operator_name_is_printable_bounded_and_not_the_service() {
        assert!(OperatorName::parse("alice").is_ok());
        assert!(OperatorName::parse("Søren Ødegård").is_ok());
        assert!(OperatorName::parse("  ").is_err());
        assert!(OperatorName::parse(&"x".repeat(65)).is_err());
        assert!(OperatorName::parse("bad\nname").is_err());
        assert!(OperatorName::parse("cli:root").is_err());
        assert!(OperatorName::parse("Bootstrap").is_err());
        assert!(OperatorName::parse("clientsync").is_err());
    }

    #[test]
    fn roles_include_the_ones_below_them() {
        let steward = Actor::operator(Uuid::nil(), "s", Role::Steward, Via::Api);
        assert!(steward.may(Role::Viewer));
        assert!(steward.may(Role::Steward));
        assert!(!steward.may(Role::Admin));
    }

    #[test]
    fn roles_read_back_as_they_are_spelled() {
        for role in [Role::Viewer, Role::Steward, Role::Admin] {
            assert_eq!(parse_role(role_name(role)).ok(), Some(role));
        }
        assert!(parse_role("root").is_err());
    }

    #[test]
    fn the_cli_records_the_login_it_ran_under() {
        assert_eq!(Actor::cli(Some("maria")).name(), "cli:maria");
        assert_eq!(Actor::cli(None).name(), "cli:unknown");
        assert_eq!(Actor::cli(Some("a\u{7}b")).name(), "cli:unknown");
    }
}
