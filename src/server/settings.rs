//! The server's runtime settings, and where each one comes from.
//!
//! Four layers, each overriding the one before: built-in defaults, the
//! settings file (`Leptos.toml`), `HUSH_…` environment variables, and
//! command-line flags. Every setting is declared once, in [`SETTINGS`]; its
//! file key, variable name and flag come from that one row, so they cannot
//! drift apart. An unknown key or a malformed value is an error that names
//! the setting and where it came from. This module never echoes the value of
//! a secret setting (a database URL may carry a password).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::address::Cidr;
use super::rate::Rate;
use crate::model::conversation::MAX_KNOWN;

/// The settings file read when none is named.
pub const DEFAULT_CONFIG_FILE: &str = "Leptos.toml";
/// The variable that names another settings file.
pub const CONFIG_ENV: &str = "HUSH_CONFIG";

/// One setting: its key in the file, its variable, its flag and its default.
#[derive(Debug)]
pub struct Def {
    pub key: &'static str,
    pub env: &'static str,
    pub flag: &'static str,
    pub value_name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
    /// Never echoed back in an error message.
    pub secret: bool,
    /// Whether it may be given as a flag. A signing key may not: every user
    /// of the machine can read a process's command line (`ps`).
    pub command_line: bool,
}

/// Every setting the server knows. The order is the order of `--help`.
pub const SETTINGS: &[Def] = &[
    Def {
        key: "listen",
        env: "HUSH_LISTEN",
        flag: "listen",
        value_name: "ADDR:PORT",
        default: "127.0.0.1:3000",
        help: "Address and port to serve on (port 0 picks a free one)",
        secret: false,
        command_line: true,
    },
    Def {
        key: "data_dir",
        env: "HUSH_DATA_DIR",
        flag: "data-dir",
        value_name: "DIR",
        default: "data",
        help: "Directory for the embedded database and generated secrets (created if missing)",
        secret: false,
        command_line: true,
    },
    Def {
        key: "database_url",
        env: "HUSH_DATABASE_URL",
        flag: "database-url",
        value_name: "URL",
        default: "",
        help: "Database to use: a postgres:// URL (several nodes share it), a sqlite: URL, or empty for the SQLite file hush.db in the data directory",
        secret: true,
        command_line: true,
    },
    Def {
        key: "database_pool_size",
        env: "HUSH_DATABASE_POOL_SIZE",
        flag: "database-pool-size",
        value_name: "N",
        default: "16",
        help: "Connections this node keeps to PostgreSQL at most (1 to 1000); SQLite uses 8",
        secret: false,
        command_line: true,
    },
    Def {
        key: "redis_url",
        env: "HUSH_REDIS_URL",
        flag: "redis-url",
        value_name: "URL",
        default: "",
        help: "Redis 7 (a redis:// URL; no TLS: keep it on a private network) through which several nodes push to each other's sockets; empty: one node, pushes in process",
        secret: true,
        command_line: true,
    },
    Def {
        key: "redis_prefix",
        env: "HUSH_REDIS_PREFIX",
        flag: "redis-prefix",
        value_name: "NAME",
        default: "hush",
        help: "What this deployment's Redis channels start with (letters, digits, - _ . :, at most 64): nodes of one deployment share it, another deployment on the same Redis needs its own",
        secret: false,
        command_line: true,
    },
    Def {
        key: "site_dir",
        env: "HUSH_SITE_DIR",
        flag: "site-dir",
        value_name: "DIR",
        default: "target/site",
        help: "The built browser app (WASM, JS, CSS, public files), as cargo-leptos writes it",
        secret: false,
        command_line: true,
    },
    Def {
        key: "allowed_origins",
        env: "HUSH_ALLOWED_ORIGINS",
        flag: "allowed-origins",
        value_name: "ORIGINS",
        default: "",
        help: "Other origins (comma-separated, like https://chat.example.com) allowed to call the API and open sockets; the server's own origin always is",
        secret: false,
        command_line: true,
    },
    Def {
        key: "sockets_per_user",
        env: "HUSH_SOCKETS_PER_USER",
        flag: "sockets-per-user",
        value_name: "N",
        default: "32",
        help: "Most Socket.IO connections one user may hold on a node at once (1 to 100000); one more is refused with too_many_sockets",
        secret: false,
        command_line: true,
    },
    Def {
        key: "public_url",
        env: "HUSH_PUBLIC_URL",
        flag: "public-url",
        value_name: "URL",
        default: "",
        help: "The address browsers reach the server at, like https://chat.example.com (scheme and host, no path); with https the server sends HSTS, the session cookie is Secure and named __Host-hush_session, and the Origin check compares the scheme too",
        secret: false,
        command_line: true,
    },
    Def {
        key: "trusted_proxies",
        env: "HUSH_TRUSTED_PROXIES",
        flag: "trusted-proxies",
        value_name: "NETWORKS",
        default: "",
        help: "Proxies in front of the server (comma-separated addresses or networks, like 10.0.0.0/8) whose X-Forwarded-For names the client; empty: the connection's own address is the client's",
        secret: false,
        command_line: true,
    },
    Def {
        key: "token_secret",
        env: "HUSH_TOKEN_SECRET",
        flag: "token-secret",
        value_name: "SECRET",
        default: "",
        help: "Key that signs session tokens: a random secret of 32+ bytes, such as `openssl rand -base64 32` prints (every node of one deployment needs the same); environment or settings file only, never a flag. Empty: generated once into the data directory",
        secret: true,
        command_line: false,
    },
    Def {
        key: "token_ttl_secs",
        env: "HUSH_TOKEN_TTL_SECS",
        flag: "token-ttl-secs",
        value_name: "SECONDS",
        default: "604800",
        help: "Lifetime of a session token, in seconds (60 to 31536000)",
        secret: false,
        command_line: true,
    },
    Def {
        key: "max_message_bytes",
        env: "HUSH_MAX_MESSAGE_BYTES",
        flag: "max-message-bytes",
        value_name: "BYTES",
        default: "65536",
        help: "Largest accepted message ciphertext, in bytes (1024 to 16777216)",
        secret: false,
        command_line: true,
    },
    Def {
        key: "kdf_min_iterations",
        env: "HUSH_KDF_MIN_ITERATIONS",
        flag: "kdf-min-iterations",
        value_name: "N",
        default: "600000",
        help: "Fewest PBKDF2 iterations a sign-up may use; lower it only for tests and benchmarks",
        secret: false,
        command_line: true,
    },
    Def {
        key: "signups_per_address",
        env: "HUSH_SIGNUPS_PER_ADDRESS",
        flag: "signups-per-address",
        value_name: "N",
        default: "30",
        help: "Most sign-ups one client address may make in 15 minutes (1 to 1000000)",
        secret: false,
        command_line: true,
    },
    Def {
        key: "sends_per_minute",
        env: "HUSH_SENDS_PER_MINUTE",
        flag: "sends-per-minute",
        value_name: "N",
        default: "600",
        help: "Messages one user may send a minute, a quarter of them at once (1 to 10000000); more are 429 rate_limited",
        secret: false,
        command_line: true,
    },
    Def {
        key: "lookups_per_minute",
        env: "HUSH_LOOKUPS_PER_MINUTE",
        flag: "lookups-per-minute",
        value_name: "N",
        default: "120",
        help: "User lookups one user may make a minute, a quarter of them at once (1 to 10000000)",
        secret: false,
        command_line: true,
    },
    Def {
        key: "reads_per_minute",
        env: "HUSH_READS_PER_MINUTE",
        flag: "reads-per-minute",
        value_name: "N",
        default: "600",
        help: "Read positions and settings one user may store a minute, a quarter of them at once (1 to 10000000)",
        secret: false,
        command_line: true,
    },
    Def {
        key: "creates_per_minute",
        env: "HUSH_CREATES_PER_MINUTE",
        flag: "creates-per-minute",
        value_name: "N",
        default: "30",
        help: "Conversations one user may create a minute, a quarter of them at once (1 to 10000000)",
        secret: false,
        command_line: true,
    },
    Def {
        key: "socket_events_per_minute",
        env: "HUSH_SOCKET_EVENTS_PER_MINUTE",
        flag: "socket-events-per-minute",
        value_name: "N",
        default: "600",
        help: "Events one socket may send a minute, a quarter of them at once (1 to 10000000); more get a rate_limited error ack",
        secret: false,
        command_line: true,
    },
    Def {
        key: "conversations_per_user",
        env: "HUSH_CONVERSATIONS_PER_USER",
        flag: "conversations-per-user",
        value_name: "N",
        default: "10000",
        help: "Most conversations one user may belong to (1 to 10000); a create past it is 403 too_many_conversations",
        secret: false,
        command_line: true,
    },
    Def {
        key: "handshakes_per_address",
        env: "HUSH_HANDSHAKES_PER_ADDRESS",
        flag: "handshakes-per-address",
        value_name: "N",
        default: "60",
        help: "Socket connections one client address may open in 10 seconds (1 to 1000000), which bounds its sockets not yet signed in; more are 429",
        secret: false,
        command_line: true,
    },
    Def {
        key: "header_timeout_secs",
        env: "HUSH_HEADER_TIMEOUT_SECS",
        flag: "header-timeout-secs",
        value_name: "SECONDS",
        default: "10",
        help: "Time a client has to send a request's headers, and that an idle kept-alive connection stays open (1 to 3600)",
        secret: false,
        command_line: true,
    },
    Def {
        key: "body_timeout_secs",
        env: "HUSH_BODY_TIMEOUT_SECS",
        flag: "body-timeout-secs",
        value_name: "SECONDS",
        default: "30",
        help: "Time a client has to send a whole request body (1 to 3600); slower is 408 request_timeout",
        secret: false,
        command_line: true,
    },
];

/// The settings the server runs with, every value checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `None`: the embedded SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// Most connections to PostgreSQL (unused on SQLite).
    pub database_pool_size: u32,
    /// `None`: one node, the in-process adapter.
    pub redis_url: Option<String>,
    /// What this deployment's Redis channels start with.
    pub redis_prefix: String,
    pub site_dir: PathBuf,
    pub allowed_origins: Vec<String>,
    /// The origin browsers use (`https://host[:port]`), if set.
    pub public_url: Option<String>,
    pub trusted_proxies: Vec<Cidr>,
    /// `None`: the key generated into the data directory.
    pub token_secret: Option<String>,
    pub token_ttl_secs: u64,
    pub max_message_bytes: u32,
    pub kdf_min_iterations: u32,
    pub signups_per_address: usize,
    pub sockets_per_user: usize,
    pub sends_per_minute: Rate,
    pub lookups_per_minute: Rate,
    pub reads_per_minute: Rate,
    pub creates_per_minute: Rate,
    pub socket_events_per_minute: Rate,
    pub conversations_per_user: u64,
    pub handshakes_per_address: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::from_raw(defaults()).expect("the built-in defaults are valid settings")
    }
}

/// Where a raw value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Flag(flag) => write!(f, "flag --{flag}"),
        }
    }
}

/// Why the settings could not be loaded. Each message is one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("unknown setting `{key}` in {origin}")]
    Unknown { key: String, origin: Origin },
    #[error("invalid value for setting `{key}` (from {origin}): {problem}")]
    Invalid {
        key: &'static str,
        origin: Origin,
        problem: String,
    },
    #[error("cannot read settings file {path}: {reason}")]
    File { path: PathBuf, reason: String },
}

/// The raw inputs of every layer above the defaults.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// A settings file named by `--config`; when `None`, `HUSH_CONFIG` or,
    /// failing that, `Leptos.toml` in the working directory if it exists.
    pub config: Option<PathBuf>,
    /// The process environment (only `HUSH_…` variables are looked at).
    pub env: Vec<(String, String)>,
    /// Flags given on the command line, by setting key.
    pub flags: Vec<(&'static str, String)>,
}

struct Raw {
    value: String,
    origin: Origin,
}

impl Sources {
    /// Reads the file (if any), applies the layers in order and checks every value.
    pub fn load(&self) -> Result<Settings, SettingsError> {
        let mut raw = defaults();

        if let Some(path) = self.config_file() {
            let text = std::fs::read_to_string(&path).map_err(|e| SettingsError::File {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            for (key, value) in parse_file(&path, &text)? {
                let origin = Origin::File(path.clone());
                raw.insert(key, Raw { value, origin });
            }
        }

        for (name, value) in &self.env {
            if !name.starts_with("HUSH_") || name == CONFIG_ENV {
                continue;
            }
            let def =
                SETTINGS
                    .iter()
                    .find(|d| d.env == name)
                    .ok_or_else(|| SettingsError::Unknown {
                        key: name.clone(),
                        origin: Origin::Env("(process environment)"),
                    })?;
            let origin = Origin::Env(def.env);
            raw.insert(
                def.key,
                Raw {
                    value: value.clone(),
                    origin,
                },
            );
        }

        for (key, value) in &self.flags {
            let def = def(key);
            let origin = Origin::Flag(def.flag);
            raw.insert(
                def.key,
                Raw {
                    value: value.clone(),
                    origin,
                },
            );
        }

        Settings::from_raw(raw)
    }

    /// The settings file to read, if any.
    fn config_file(&self) -> Option<PathBuf> {
        if let Some(path) = &self.config {
            return Some(path.clone());
        }
        if let Some((_, path)) = self.env.iter().find(|(name, _)| name == CONFIG_ENV) {
            return Some(PathBuf::from(path));
        }
        let default = Path::new(DEFAULT_CONFIG_FILE);
        default.exists().then(|| default.to_owned())
    }
}

/// The bottom layer: every setting at its built-in default.
fn defaults() -> BTreeMap<&'static str, Raw> {
    SETTINGS
        .iter()
        .map(|def| {
            let value = def.default.to_owned();
            (
                def.key,
                Raw {
                    value,
                    origin: Origin::Default,
                },
            )
        })
        .collect()
}

/// The definition of a known key. Keys come from [`SETTINGS`] itself, so a
/// miss is a programming error.
fn def(key: &str) -> &'static Def {
    SETTINGS
        .iter()
        .find(|d| d.key == key)
        .unwrap_or_else(|| panic!("`{key}` is not in SETTINGS"))
}

/// Turns the settings file into `(key, raw value)` pairs. Lists become
/// comma-separated strings so that every layer is parsed by the same code.
fn parse_file(path: &Path, text: &str) -> Result<Vec<(&'static str, String)>, SettingsError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| SettingsError::File {
            path: path.to_owned(),
            reason: e.message().to_owned(),
        })?;
    let mut out = Vec::with_capacity(table.len());
    for (key, value) in table {
        let Some(def) = SETTINGS.iter().find(|d| d.key == key) else {
            return Err(SettingsError::Unknown {
                key,
                origin: Origin::File(path.to_owned()),
            });
        };
        let invalid = |problem: &str| SettingsError::Invalid {
            key: def.key,
            origin: Origin::File(path.to_owned()),
            problem: problem.to_owned(),
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s),
                    _ => Err(invalid("expected a list of strings")),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            _ => {
                return Err(invalid(
                    "expected a string, a whole number or a list of strings",
                ));
            }
        };
        out.push((def.key, text));
    }
    Ok(out)
}

impl Settings {
    fn from_raw(mut raw: BTreeMap<&'static str, Raw>) -> Result<Self, SettingsError> {
        let mut take = |key: &'static str| {
            raw.remove(key)
                .map(|r| (def(key), r))
                .expect("every setting has a default")
        };
        Ok(Settings {
            listen: parse(take("listen"), |v| {
                v.parse::<SocketAddr>()
                    .map_err(|_| "expected an address and port such as 127.0.0.1:3000".into())
            })?,
            data_dir: parse(take("data_dir"), non_empty_path)?,
            database_url: parse(take("database_url"), database_url)?,
            database_pool_size: parse(take("database_pool_size"), |v| {
                number(v, 1, 1000).map(|n| n as u32)
            })?,
            redis_url: parse(take("redis_url"), redis_url)?,
            redis_prefix: parse(take("redis_prefix"), redis_prefix)?,
            site_dir: parse(take("site_dir"), non_empty_path)?,
            allowed_origins: parse(take("allowed_origins"), origins)?,
            public_url: parse(take("public_url"), |v| {
                let mut one = origins(v)?;
                match one.len() {
                    0 => Ok(None),
                    1 => Ok(one.pop()),
                    _ => Err("expected one URL".to_owned()),
                }
            })?,
            trusted_proxies: parse(take("trusted_proxies"), |v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Cidr::parse)
                    .collect()
            })?,
            token_secret: parse(take("token_secret"), token_secret)?,
            token_ttl_secs: parse(take("token_ttl_secs"), |v| number(v, 60, 31_536_000))?,
            max_message_bytes: parse(take("max_message_bytes"), |v| {
                number(v, 1024, 16 * 1024 * 1024).map(|n| n as u32)
            })?,
            kdf_min_iterations: parse(take("kdf_min_iterations"), |v| {
                number(v, 1, 10_000_000).map(|n| n as u32)
            })?,
            signups_per_address: parse(take("signups_per_address"), |v| {
                number(v, 1, 1_000_000).map(|n| n as usize)
            })?,
            sockets_per_user: parse(take("sockets_per_user"), |v| {
                number(v, 1, 100_000).map(|n| n as usize)
            })?,
            sends_per_minute: parse(take("sends_per_minute"), rate)?,
            lookups_per_minute: parse(take("lookups_per_minute"), rate)?,
            reads_per_minute: parse(take("reads_per_minute"), rate)?,
            creates_per_minute: parse(take("creates_per_minute"), rate)?,
            socket_events_per_minute: parse(take("socket_events_per_minute"), rate)?,
            conversations_per_user: parse(take("conversations_per_user"), |v| {
                number(v, 1, MAX_KNOWN as u64)
            })?,
            handshakes_per_address: parse(take("handshakes_per_address"), |v| {
                number(v, 1, 1_000_000).map(|n| n as usize)
            })?,
            header_timeout: parse(take("header_timeout_secs"), seconds)?,
            body_timeout: parse(take("body_timeout_secs"), seconds)?,
        })
    }
}

impl Settings {
    /// Whether browsers reach the server over HTTPS (`public_url`).
    pub fn https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }

    /// The name of the browser's session cookie: `__Host-` prefixed (the
    /// browser then insists on `Secure`, `Path=/` and no `Domain`) over
    /// HTTPS.
    pub fn session_cookie(&self) -> &'static str {
        if self.https() {
            "__Host-hush_session"
        } else {
            "hush_session"
        }
    }
}

/// Parses one raw value, wrapping a failure with the setting's name and origin.
fn parse<T>(
    (def, raw): (&'static Def, Raw),
    check: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, SettingsError> {
    check(raw.value.trim()).map_err(|problem| SettingsError::Invalid {
        key: def.key,
        origin: raw.origin,
        problem: if def.secret {
            problem
        } else {
            format!("{problem}, got {:?}", raw.value)
        },
    })
}

fn non_empty_path(v: &str) -> Result<PathBuf, String> {
    if v.is_empty() {
        Err("expected a path".into())
    } else {
        Ok(PathBuf::from(v))
    }
}

fn database_url(v: &str) -> Result<Option<String>, String> {
    if v.is_empty() {
        Ok(None)
    } else if v.starts_with("sqlite:") || crate::server::store::is_postgres(v) {
        Ok(Some(v.to_owned()))
    } else {
        Err("expected a postgres:// or sqlite: URL, or nothing for the embedded default".into())
    }
}

fn redis_url(v: &str) -> Result<Option<String>, String> {
    if v.is_empty() {
        Ok(None)
    } else if v.starts_with("redis://") {
        Ok(Some(v.to_owned()))
    } else {
        Err("expected a redis:// URL, or nothing for one node".into())
    }
}

/// A prefix may not hold `#`, which the adapter's channel names use as a
/// separator; the rest is kept to what reads well in `PUBSUB SHARDCHANNELS`.
fn redis_prefix(v: &str) -> Result<String, String> {
    let fits = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if fits {
        Ok(v.to_owned())
    } else {
        Err("expected 1 to 64 letters, digits, '-', '_', '.' or ':'".into())
    }
}

/// Bits of entropy a token secret needs: as many as HS256's key.
const SECRET_BITS: f64 = 256.0;
/// Fewest distinct characters a token secret may have (no `aaaa…`).
const SECRET_DISTINCT: usize = 16;

fn token_secret(v: &str) -> Result<Option<String>, String> {
    if v.is_empty() {
        return Ok(None);
    }
    let bits = secret_bits(v);
    let distinct = v.chars().collect::<std::collections::HashSet<_>>().len();
    if bits < SECRET_BITS || distinct < SECRET_DISTINCT {
        return Err(format!(
            "expected a random secret of at least 32 bytes, such as `openssl rand -base64 32` prints; this one carries about {} bits of the {SECRET_BITS} needed",
            bits.min(SECRET_BITS - 1.0) as u32
        ));
    }
    Ok(Some(v.to_owned()))
}

/// At most how many bits of entropy `secret` can carry: its length times
/// the bits of the alphabet its characters are drawn from (lowercase,
/// uppercase, digits, other printable ASCII, anything else).
fn secret_bits(secret: &str) -> f64 {
    type Class = (fn(char) -> bool, f64);
    let classes: [Class; 4] = [
        (|c| c.is_ascii_lowercase(), 26.0),
        (|c| c.is_ascii_uppercase(), 26.0),
        (|c| c.is_ascii_digit(), 10.0),
        (|c| c.is_ascii_punctuation(), 32.0),
    ];
    let mut alphabet: f64 = classes
        .iter()
        .filter(|(class, _)| secret.chars().any(class))
        .map(|(_, size)| size)
        .sum();
    if !secret.chars().all(|c| c.is_ascii_graphic()) {
        alphabet += 64.0;
    }
    secret.chars().count() as f64 * alphabet.log2()
}

/// A rate a minute.
fn rate(v: &str) -> Result<Rate, String> {
    number(v, 1, 10_000_000).map(|n| Rate {
        per_minute: n as u32,
    })
}

/// A timeout in whole seconds.
fn seconds(v: &str) -> Result<Duration, String> {
    number(v, 1, 3600).map(Duration::from_secs)
}

fn number(v: &str, min: u64, max: u64) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

fn origins(v: &str) -> Result<Vec<String>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|origin| {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') => {
                    Ok(origin.to_ascii_lowercase())
                }
                _ => Err(format!(
                    "expected origins like https://chat.example.com (scheme and host, no path), not {origin:?}"
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_without_any_source() {
        let s = Sources {
            config: Some(file("").path().to_owned()),
            ..Sources::default()
        }
        .load()
        .unwrap();
        assert_eq!(s.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(s.database_url, None);
        assert_eq!(s.database_pool_size, 16);
        assert_eq!(s.redis_url, None);
        assert_eq!(s.redis_prefix, "hush");
        assert_eq!(s.site_dir, PathBuf::from("target/site"));
        assert!(s.allowed_origins.is_empty());
        assert!(s.trusted_proxies.is_empty());
        assert_eq!(s.token_ttl_secs, 604_800);
        assert_eq!(s.max_message_bytes, 65_536);
        assert_eq!(s.kdf_min_iterations, 600_000);
        assert_eq!(s.signups_per_address, 30);
        assert_eq!(s.sockets_per_user, 32);
        assert_eq!(s.sends_per_minute, Rate { per_minute: 600 });
        assert_eq!(s.lookups_per_minute, Rate { per_minute: 120 });
        assert_eq!(s.reads_per_minute, Rate { per_minute: 600 });
        assert_eq!(s.creates_per_minute, Rate { per_minute: 30 });
        assert_eq!(s.socket_events_per_minute, Rate { per_minute: 600 });
        assert_eq!(s.conversations_per_user, 10_000);
        assert_eq!(s.handshakes_per_address, 60);
        assert_eq!(s.header_timeout, Duration::from_secs(10));
        assert_eq!(s.body_timeout, Duration::from_secs(30));
    }

    #[test]
    fn limits_refuse_zero_and_out_of_range() {
        for (var, value) in [
            ("HUSH_SENDS_PER_MINUTE", "0"),
            ("HUSH_CONVERSATIONS_PER_USER", "10001"),
            ("HUSH_HANDSHAKES_PER_ADDRESS", "0"),
            ("HUSH_HEADER_TIMEOUT_SECS", "0"),
            ("HUSH_BODY_TIMEOUT_SECS", "3601"),
        ] {
            let err = Sources {
                env: env(&[(var, value)]),
                ..Sources::default()
            }
            .load()
            .unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn file_overrides_default_env_overrides_file_flag_overrides_env() {
        let f = file(
            "listen = \"127.0.0.1:4000\"\ndata_dir = \"from-file\"\nmax_message_bytes = 2048\n",
        );
        let mut sources = Sources {
            config: Some(f.path().to_owned()),
            ..Sources::default()
        };
        let s = sources.load().unwrap();
        assert_eq!(s.listen.port(), 4000);
        assert_eq!(s.data_dir, PathBuf::from("from-file"));
        assert_eq!(s.max_message_bytes, 2048);

        sources.env = env(&[("HUSH_LISTEN", "127.0.0.1:5000"), ("PATH", "/bin")]);
        let s = sources.load().unwrap();
        assert_eq!(s.listen.port(), 5000, "env beats file");
        assert_eq!(s.data_dir, PathBuf::from("from-file"), "file still applies");

        sources.flags = vec![("listen", "127.0.0.1:6000".into())];
        let s = sources.load().unwrap();
        assert_eq!(s.listen.port(), 6000, "flag beats env");
        assert_eq!(s.max_message_bytes, 2048);
    }

    #[test]
    fn hush_config_names_the_file() {
        let f = file("data_dir = \"elsewhere\"\n");
        let s = Sources {
            env: env(&[(CONFIG_ENV, f.path().to_str().unwrap())]),
            ..Sources::default()
        }
        .load()
        .unwrap();
        assert_eq!(s.data_dir, PathBuf::from("elsewhere"));
    }

    #[test]
    fn lists_come_from_toml_arrays_or_commas() {
        let f = file("allowed_origins = [\"https://a.example\", \"http://b.example:8080\"]\n");
        let mut sources = Sources {
            config: Some(f.path().to_owned()),
            ..Sources::default()
        };
        assert_eq!(
            sources.load().unwrap().allowed_origins,
            ["https://a.example", "http://b.example:8080"]
        );
        sources.env = env(&[(
            "HUSH_ALLOWED_ORIGINS",
            "https://C.example, https://d.example",
        )]);
        assert_eq!(
            sources.load().unwrap().allowed_origins,
            ["https://c.example", "https://d.example"]
        );
    }

    #[test]
    fn malformed_values_name_the_setting_and_the_source() {
        let cases: [(Sources, &str, &str); 5] = [
            (
                Sources {
                    env: env(&[("HUSH_MAX_MESSAGE_BYTES", "lots")]),
                    ..Sources::default()
                },
                "max_message_bytes",
                "environment variable HUSH_MAX_MESSAGE_BYTES",
            ),
            (
                Sources {
                    flags: vec![("listen", "localhost".into())],
                    ..Sources::default()
                },
                "listen",
                "flag --listen",
            ),
            (
                Sources {
                    flags: vec![("allowed_origins", "chat.example.com".into())],
                    ..Sources::default()
                },
                "allowed_origins",
                "flag --allowed-origins",
            ),
            (
                Sources {
                    env: env(&[("HUSH_KDF_MIN_ITERATIONS", "0")]),
                    ..Sources::default()
                },
                "kdf_min_iterations",
                "HUSH_KDF_MIN_ITERATIONS",
            ),
            (
                Sources {
                    env: env(&[("HUSH_SIGNUPS_PER_ADDRESS", "0")]),
                    ..Sources::default()
                },
                "signups_per_address",
                "HUSH_SIGNUPS_PER_ADDRESS",
            ),
        ];
        for (sources, key, origin) in cases {
            let err = sources.load().unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, SettingsError::Invalid { key: k, .. } if k == key),
                "{msg}"
            );
            assert!(msg.contains(&format!("`{key}`")), "{msg}");
            assert!(msg.contains(origin), "{msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
    }

    #[test]
    fn malformed_value_in_file_names_the_file() {
        let f = file("token_ttl_secs = \"soon\"\n");
        let err = Sources {
            config: Some(f.path().to_owned()),
            ..Sources::default()
        }
        .load()
        .unwrap_err()
        .to_string();
        assert!(err.contains("`token_ttl_secs`"), "{err}");
        assert!(err.contains(&f.path().display().to_string()), "{err}");
    }

    #[test]
    fn unknown_keys_and_variables_are_refused() {
        let f = file("lisen = \"127.0.0.1:3000\"\n");
        let err = Sources {
            config: Some(f.path().to_owned()),
            ..Sources::default()
        }
        .load()
        .unwrap_err();
        assert!(
            matches!(&err, SettingsError::Unknown { key, .. } if key == "lisen"),
            "{err}"
        );

        let err = Sources {
            env: env(&[("HUSH_LISEN", "x")]),
            ..Sources::default()
        }
        .load()
        .unwrap_err();
        assert!(err.to_string().contains("HUSH_LISEN"), "{err}");
    }

    #[test]
    fn a_secret_value_is_never_echoed() {
        let err = Sources {
            env: env(&[("HUSH_DATABASE_URL", "mysql://admin:hunter2@db/hush")]),
            ..Sources::default()
        }
        .load()
        .unwrap_err()
        .to_string();
        assert!(err.contains("`database_url`"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");

        let err = Sources {
            env: env(&[("HUSH_REDIS_URL", "http://:hunter2@cache:6379")]),
            ..Sources::default()
        }
        .load()
        .unwrap_err()
        .to_string();
        assert!(err.contains("`redis_url`"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_redis_prefix_keeps_to_plain_names() {
        for good in ["hush", "hush-prod.eu:1", "t_42"] {
            assert_eq!(redis_prefix(good).as_deref(), Ok(good));
        }
        for bad in ["", "a#b", "with space", &"x".repeat(65)] {
            assert!(redis_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_token_secret_must_carry_256_bits() {
        let check = |v: &str| token_secret(v).is_ok();
        assert!(check(""), "empty: generated");
        // `openssl rand -base64 32` and `openssl rand -hex 32`.
        assert!(check("q3Vv1b0Yl5o+8Jm2wH6cFzR0tXeK9uPnA4sGdLiE7yM="));
        assert!(check(
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        ));
        for weak in [
            "a".repeat(64).as_str(),
            "correcthorsebatterystaplecorrecthorse",
            "passwordpasswordpasswordpassword",
            "0123456789012345678901234567890123456789",
        ] {
            let err = token_secret(weak).unwrap_err();
            assert!(err.contains("openssl rand"), "{err}");
        }
    }

    #[test]
    fn a_missing_named_file_is_an_error() {
        let err = Sources {
            config: Some(PathBuf::from("/nonexistent/hush.toml")),
            ..Sources::default()
        }
        .load()
        .unwrap_err();
        assert!(matches!(err, SettingsError::File { .. }), "{err}");
    }

    #[test]
    fn names_follow_one_rule() {
        for def in SETTINGS {
            assert_eq!(def.env, format!("HUSH_{}", def.key.to_uppercase()));
            assert_eq!(def.flag, def.key.replace('_', "-"));
        }
    }

    #[test]
    fn the_shipped_settings_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG_FILE);
        let s = Sources {
            config: Some(path),
            ..Sources::default()
        }
        .load()
        .unwrap();
        assert_eq!(s, Settings::default(), "Leptos.toml documents the defaults");
    }
}
