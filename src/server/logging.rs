//! What the server logs, and the caps that keep secrets out of it. Our own
//! code logs ids, counts and sizes only, never a token, a key or a message.
//! The Socket.IO crates log more at debug and trace: socketioxide logs each
//! CONNECT packet's `auth` object (the session token) and whole packets,
//! and its Redis adapter every request between nodes (pushes, whole), so
//! they are capped at info whatever `RUST_LOG` asks for. The binary installs
//! [`init`]; the tests capture the log through the same [`caps`].

use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The level used when `RUST_LOG` is unset.
const DEFAULT: &str = "info,sqlx=warn";

/// Crates whose debug and trace lines carry tokens or payloads.
const CAPPED: [&str; 3] = ["socketioxide", "socketioxide_redis", "engineioxide"];

/// A filter that lets everything through but the capped crates' lines
/// below info; it is combined with whatever else decides the level.
pub fn caps() -> Targets {
    CAPPED.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |caps, target| caps.with_target(*target, LevelFilter::INFO),
    )
}

/// Logs to stderr at the level `RUST_LOG` sets (default info), capped.
pub fn init() {
    let level = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(level)
        .with(caps())
        .init();
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::caps;

    #[test]
    fn the_socket_crates_are_capped_at_info_and_nothing_else_is() {
        let caps = caps();
        for target in [
            "socketioxide::client",
            "engineioxide::service",
            "socketioxide",
            "socketioxide_redis",
        ] {
            assert!(!caps.would_enable(target, &Level::DEBUG), "{target}");
            assert!(caps.would_enable(target, &Level::INFO), "{target}");
        }
        assert!(caps.would_enable("hush::server::realtime", &Level::TRACE));
    }
}
