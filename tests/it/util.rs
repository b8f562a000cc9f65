//! The fixture: a real server on a free port with its own data directory,
//! and an HTTP client that speaks to it.

use hush::server::boot::{self, Running};
use hush::server::settings::Settings;

pub struct TestServer {
    pub running: Running,
    pub http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl TestServer {
    /// A server with default settings, but its own data directory and port.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestServer::start`], with the settings adjusted first.
    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let data = tempfile::tempdir().expect("a temporary directory");
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data.path().to_owned(),
            ..Settings::default()
        };
        adjust(&mut settings);
        let running = boot::start(settings).await.expect("the server starts");
        TestServer {
            running,
            http: reqwest::Client::new(),
            _data: data,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.addr())
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("a response")
    }
}
