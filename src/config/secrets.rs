//! Secrets that would make verification or the operator API worthless are refused at start-up:
//! a short key can be guessed, and a placeholder copied from an example file is public.

use super::{ConfigError, sources::env_var};

/// Fewest characters of a signing secret or bearer token. HubSpot client secrets are UUIDs (36
/// characters) and ClickUp webhook secrets 32; a token we generate (`openssl rand -hex 32`) is 64.
pub const MIN_SECRET_LEN: usize = 16;

/// Values from example files and tutorials, compared without case or punctuation.
const PLACEHOLDERS: [&str; 16] = [
    "changeme",
    "replaceme",
    "secret",
    "password",
    "passwd",
    "token",
    "todo",
    "fixme",
    "placeholder",
    "example",
    "dummy",
    "test",
    "default",
    "yoursecret",
    "yourtoken",
    "none",
];

/// Why a secret's value cannot be used, or `None` when it can.
pub fn weakness(value: &str, min_len: usize) -> Option<String> {
    let folded: String = value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let repeated = folded
        .chars()
        .next()
        .is_some_and(|first| folded.chars().all(|c| c == first));
    if PLACEHOLDERS.contains(&folded.as_str()) || repeated || value.contains("CHANGE-ME") {
        return Some("is a placeholder, not a secret".into());
    }
    if value.chars().count() < min_len {
        return Some(format!("is shorter than {min_len} characters"));
    }
    None
}

/// Refuses a weak secret, naming the variable that holds it (never its value).
pub fn check(key: &'static str, value: &str, min_len: usize) -> Result<(), ConfigError> {
    match weakness(value, min_len) {
        Some(reason) => Err(ConfigError::WeakSecret {
            key,
            env: env_var(key),
            reason,
        }),
        None => Ok(()),
    }
}

/// Refuses a URL whose password is a placeholder (`postgres://app:CHANGE-ME@db/app`).
pub fn check_url_password(key: &'static str, url: &str) -> Result<(), ConfigError> {
    let Some((_, rest)) = url.split_once("://") else {
        return Ok(());
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Ok(());
    };
    match userinfo.split_once(':') {
        Some((_, password)) if weakness(password, 0).is_some() => Err(ConfigError::WeakSecret {
            key,
            env: env_var(key),
            reason: "holds a placeholder password".into(),
        }),
        _ => Ok(()),
    }
}

/// The URL with its password replaced, for logs.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Where a URL points, as `host:port` (the scheme's port when none is given), or a SQLite file's
/// path: what an operator needs to see in a connection error, and never the password.
pub fn endpoint(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://").or_else(|| url.split_once(':')) else {
        return "(unparsable URL)".to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    if scheme == "sqlite" {
        let path = rest.split('?').next().unwrap_or_default();
        return if path.is_empty() {
            "(in memory)".to_owned()
        } else {
            path.to_owned()
        };
    }
    let authority = &rest[..authority_end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let has_port = match host.rfind(']') {
        Some(bracket) => host[bracket..].contains(':'),
        None => host.contains(':'),
    };
    let default_port = match scheme {
        "postgres" | "postgresql" => Some(5432),
        "amqp" => Some(5672),
        "amqps" => Some(5671),
        _ => None,
    };
    match (has_port, default_port) {
        (false, Some(port)) if !host.is_empty() => format!("{host}:{port}"),
        _ if host.is_empty() => "localhost".to_owned(),
        _ => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_host_and_port_and_never_the_password() {
        assert_eq!(endpoint("postgres://u:secretpw@127.0.0.1:1/x"), "127.0.0.1:1");
        assert_eq!(endpoint("postgres://app:pw@db/app?sslmode=require"), "db:5432");
        assert_eq!(endpoint("amqp://guest:guest@rabbit/%2f"), "rabbit:5672");
        assert_eq!(endpoint("amqps://u:p@[::1]:5999/%2f"), "[::1]:5999");
        assert_eq!(endpoint("amqps://u:p@[::1]/%2f"), "[::1]:5671");
        assert_eq!(endpoint("sqlite://clientsync.db?mode=rwc"), "clientsync.db");
        assert_eq!(endpoint("sqlite::memory:"), ":memory:");
    }

    #[test]
    fn a_redacted_url_keeps_everything_but_the_password() {
        assert_eq!(
            redact_password("postgres://app:hunter2@db:5432/app?sslmode=require"),
            "postgres://app:***@db:5432/app?sslmode=require"
        );
        assert_eq!(
            redact_password("sqlite://clientsync.db?mode=rwc"),
            "sqlite://clientsync.db?mode=rwc"
        );
    }

    #[test]
    fn placeholders_are_refused_whatever_their_case_or_punctuation() {
        for value in [
            "CHANGE-ME",
            "changeme",
            "Change_Me",
            "xxx",
            "xxxxxxxxxxxxxxxxxxxx",
            "secret",
            "<secret>",
        ] {
            assert!(weakness(value, 0).is_some(), "{value}");
        }
    }

    #[test]
    fn a_short_secret_is_refused_and_real_ones_pass() {
        assert!(weakness("dev-secret", MIN_SECRET_LEN).is_some());
        // The shapes HubSpot and ClickUp issue (specs/signature-vectors.json).
        assert_eq!(
            weakness("3b1f0c2e-9d7a-4c11-8e52-6f0a1b2c3d4e", MIN_SECRET_LEN),
            None
        );
        assert_eq!(weakness("7x1PK3mISQG0jBqeNYuhWn8alZdRtf5E", MIN_SECRET_LEN), None);
    }

    #[test]
    fn a_placeholder_password_in_a_url_is_refused_and_the_password_is_not_shown() {
        let err = check_url_password("database.url", "postgres://app:CHANGE-ME@db:5432/app").unwrap_err();
        assert!(err.to_string().contains("CLIENTSYNC_DATABASE__URL"), "{err}");
        assert!(!err.to_string().contains("CHANGE-ME"), "{err}");
        assert!(check_url_password("database.url", "postgres://app:s3cure-Pa55@db/app").is_ok());
        assert!(check_url_password("database.url", "sqlite://clientsync.db?mode=rwc").is_ok());
    }
}
