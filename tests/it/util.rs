//! The fixture: an HTTP client of a server address that signs up the way
//! the browser does, and a real server on a free port with its own data
//! directory.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use hush::crypto::native::PrivateKey;
use hush::crypto::native_client::{self, Identity};
pub use hush::crypto::native_client::{PasswordKeys, random};
use hush::model::encoding::b64;
use hush::server::boot::{self, Running};
use hush::server::rate::Rate;
use hush::server::settings::Settings;
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

/// PBKDF2 iterations the test servers accept (the real minimum is 600,000;
/// key derivation is not what these tests are about).
pub const TEST_ITERATIONS: u32 = 1000;

/// A client of one server address: every test speaks through one, to an
/// in-process [`TestServer`] or to a `hush` process.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Self {
        Client {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("a response")
    }

    /// POSTs JSON to `/api/<endpoint>`; `token` as Bearer. `Err` if the
    /// server cannot be reached.
    pub async fn try_post(
        &self,
        endpoint: &str,
        body: Value,
        token: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .http
            .post(self.url(&format!("/api/{endpoint}")))
            .header("Accept", "application/json")
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await
    }

    /// POSTs JSON to `/api/<endpoint>` as an API client; `token` as Bearer.
    pub async fn post(
        &self,
        endpoint: &str,
        body: Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        self.try_post(endpoint, body, token)
            .await
            .expect("a response")
    }

    /// Signs `username` up the way the browser does, with the native twin.
    pub async fn sign_up(&self, typed: &str, password: &str) -> Account {
        // As the browser does: every derivation uses the canonical name.
        let canonical = hush::model::username::canonical(typed).unwrap();
        let (body, Identity { dh, sig }) =
            native_client::sign_up_body(typed, canonical.as_str(), password, TEST_ITERATIONS);
        let response = self.post("signup", body, None).await;
        assert_eq!(response.status(), 200, "signup of {}", canonical.as_str());
        let answer: Value = response.json().await.unwrap();
        Account {
            username: answer["user"]["username"].as_str().unwrap().to_owned(),
            id: answer["user"]["id"].as_str().unwrap().to_owned(),
            token: answer["token"].as_str().unwrap().to_owned(),
            dh_public: dh.public(),
            sig_public: sig.public(),
            dh,
            sig,
        }
    }
}

/// A real server on a free port with its own data directory.
pub struct TestServer {
    pub running: Running,
    pub client: Client,
    pub data: crate::pg::Data,
}

impl std::ops::Deref for TestServer {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl TestServer {
    /// A server with default settings, but its own data directory and port.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestServer::start`], with the settings adjusted first.
    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::start_in(crate::pg::Data::new(), adjust).await
    }

    /// A server on the data directory `data` (a restart, when it has been
    /// used before).
    pub async fn start_in(data: crate::pg::Data, adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data.path().to_owned(),
            // Every test user signs up and connects from 127.0.0.1, and
            // some tests send, create and connect in bursts; each limit has
            // its own test, which sets it.
            signups_per_address: 1_000_000,
            handshakes_per_address: 1_000_000,
            sends_per_minute: UNLIMITED,
            lookups_per_minute: UNLIMITED,
            creates_per_minute: UNLIMITED,
            socket_events_per_minute: UNLIMITED,
            database_url: crate::pg::database_for(data.path()),
            // A few connections each: tests run side by side, and
            // PostgreSQL takes 100 clients by default.
            database_pool_size: 4,
            ..Settings::default()
        };
        adjust(&mut settings);
        let running = boot::start(settings).await.expect("the server starts");
        TestServer {
            client: Client::new(running.addr()),
            running,
            data,
        }
    }

    /// A server that accepts [`TEST_ITERATIONS`].
    pub async fn start_for_accounts() -> Self {
        Self::start_with(|s| s.kdf_min_iterations = TEST_ITERATIONS).await
    }
}

/// A signed-up user, as a test client holds it.
#[derive(Debug, Clone)]
pub struct Account {
    pub username: String,
    pub id: String,
    pub token: String,
    pub dh_public: [u8; 65],
    pub sig_public: [u8; 65],
    /// The private keys, which a real client never sends anywhere.
    pub dh: PrivateKey,
    pub sig: PrivateKey,
}

/// A signup body with fresh public keys and placeholder wrapped keys, for
/// tests about the endpoint rather than the keys.
pub fn signup_body(username: &str, auth_key: &[u8], kdf_salt: &[u8]) -> Value {
    json!({
        "username": username,
        "auth_key": b64(auth_key),
        "kdf_salt": b64(kdf_salt),
        "kdf_iterations": TEST_ITERATIONS,
        "identity": {
            "dh_public": b64(&PrivateKey::generate().public()),
            "sig_public": b64(&PrivateKey::generate().public()),
            "dh_private_wrapped": b64(&[5; 166]),
            "sig_private_wrapped": b64(&[6; 166]),
        },
    })
}

/// A writer that appends to a shared buffer.
#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures everything logged on this thread, down to TRACE, until the
/// guard drops. With a current-thread runtime, that is everything an
/// in-process server logs.
pub fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    // With exactly one dispatcher alive, tracing computes a callsite's
    // interest from whatever thread hits it first; a test thread without a
    // capture would then switch the callsite off for everyone. A second,
    // silent dispatcher kept alive makes it ask every dispatcher instead.
    static SECOND: OnceLock<tracing::Dispatch> = OnceLock::new();
    SECOND.get_or_init(|| {
        tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(std::io::sink)
                .finish(),
        )
    });
    let log = Arc::new(Mutex::new(Vec::new()));
    let writer = Capture(log.clone());
    // Through the server's own caps, as the binary logs.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .with(hush::server::logging::caps());
    (log, tracing::subscriber::set_default(subscriber))
}

/// A rate no test reaches.
pub const UNLIMITED: Rate = Rate {
    per_minute: 10_000_000,
};

/// A `hush serve` process of its own (for tests that watch the process:
/// its exit, its memory) on `addr` and data directory `data`.
pub struct ServeProcess {
    pub child: std::process::Child,
}

impl ServeProcess {
    pub fn start(addr: &str, data: &std::path::Path) -> Self {
        Self::start_with(addr, data, &[])
    }

    /// Like [`ServeProcess::start`], with these `HUSH_…` variables too.
    pub fn start_with(addr: &str, data: &std::path::Path, vars: &[(&str, &str)]) -> Self {
        Self::start_logging(addr, data, vars, std::process::Stdio::null())
    }

    /// Like [`ServeProcess::start_with`], its standard error (warnings,
    /// errors, any panic) into `stderr`.
    pub fn start_logging(
        addr: &str,
        data: &std::path::Path,
        vars: &[(&str, &str)],
        stderr: impl Into<std::process::Stdio>,
    ) -> Self {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hush"));
        if let Some(url) = crate::pg::database_for(data) {
            command.env("HUSH_DATABASE_URL", url);
        }
        command.envs(vars.iter().copied());
        let child = command
            .env("RUST_LOG", "warn")
            .env_remove("HUSH_CONFIG")
            .args(["serve", "--listen", addr])
            .args(["--data-dir", data.to_str().unwrap()])
            .args(["--kdf-min-iterations", &TEST_ITERATIONS.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("hush starts");
        ServeProcess { child }
    }

    /// A line of the process's `/proc/<pid>/status`, in KiB (`VmRSS`,
    /// `VmHWM`, …).
    pub fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in the process status"))
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the server at `client` answers its health check.
pub async fn healthy(client: &Client) {
    for _ in 0..200 {
        if let Ok(r) = client.http.get(client.url("/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// A free local address for a server of its own.
pub fn free_addr() -> std::net::SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

/// A 429 `rate_limited` with a `Retry-After` within the window.
pub async fn assert_rate_limited(response: reqwest::Response) {
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "rate_limited");
}

/// Sets what `user` shares (`/api/settings/put`), which must be stored as
/// asked.
pub async fn share(c: &Client, user: &Account, receipts: bool, presence: bool) {
    let wanted = json!({ "receipts": receipts, "presence": presence });
    let response = c
        .post("settings/put", wanted.clone(), Some(&user.token))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), wanted);
}

/// What a server on the data directory `data` has stored: each file there
/// (its database's log and secrets among them), and `"the database"`, the
/// SQLite file or, on PostgreSQL, every value in its database.
pub async fn everything_stored(data: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut stored: Vec<(String, Vec<u8>)> = std::fs::read_dir(data)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = if path.ends_with("hush.db") {
                "the database".to_owned()
            } else {
                path.display().to_string()
            };
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    if let Some(url) = crate::pg::database_for(data) {
        stored.push(("the database".to_owned(), crate::pg::dump(&url).await));
    }
    stored
}
