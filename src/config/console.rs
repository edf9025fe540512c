//! `[console]`: how long an operator stays signed in to the web console. Sessions slide: each
//! request moves the idle deadline on, up to an absolute cap counted from sign-in.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use crate::access::sessions::Lifetime;

/// Console settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Minutes without a request after which a session ends.
    pub session_idle_minutes: u32,
    /// Hours after sign-in after which a session ends however busy it was.
    pub session_max_hours: u32,
}

impl ConsoleConfig {
    /// Checks what types alone cannot; names the offending key.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.session_idle_minutes == 0 {
            return Err(ConfigError::BadValue {
                key: "console.session_idle_minutes",
                reason: "must be at least 1".into(),
            });
        }
        if self.session_max_hours == 0
            || u64::from(self.session_idle_minutes) > u64::from(self.session_max_hours) * 60
        {
            return Err(ConfigError::BadValue {
                key: "console.session_max_hours",
                reason: "must be at least 1 and cover console.session_idle_minutes".into(),
            });
        }
        Ok(())
    }

    /// The session lifetime these settings give.
    pub fn lifetime(&self) -> Lifetime {
        Lifetime {
            idle: Duration::from_secs(u64::from(self.session_idle_minutes) * 60),
            absolute: Duration::from_secs(u64::from(self.session_max_hours) * 3600),
        }
    }
}
