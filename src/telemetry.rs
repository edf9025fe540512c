//! Log set-up: human-readable in a terminal, JSON lines in production.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{LogFormat, TelemetryConfig};

/// Installs the global subscriber once; `RUST_LOG` overrides the configured filter.
pub fn init(config: &TelemetryConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.format {
        LogFormat::Json => registry
            .with(fmt::layer().json().flatten_event(true).with_current_span(false))
            .try_init(),
        // Colour codes only where a terminal renders them, not in files or log collectors.
        LogFormat::Pretty => registry
            .with(fmt::layer().compact().with_ansi(std::io::stdout().is_terminal()))
            .try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
}
