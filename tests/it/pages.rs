//! The server renders the app's pages with everything the browser needs to
//! hydrate them, and says 404 for an unknown address.

use crate::util::TestServer;

#[tokio::test]
async fn sign_in_page_is_rendered_with_its_assets() {
    let server = TestServer::start().await;
    let response = server.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>Sign in · Hush</title>"), "{html}");
    assert!(
        html.contains(r#"href="/pkg/hush.css""#),
        "stylesheet linked"
    );
    assert!(html.contains("/pkg/hush.js"), "hydration script linked");
    assert!(html.contains(r#"<label for="username""#), "labelled fields");
    assert!(
        html.contains("never leaves this browser"),
        "the password promise"
    );
}

#[tokio::test]
async fn sign_up_page_is_a_route_of_its_own() {
    let server = TestServer::start().await;
    let html = server.get("/signup").await.text().await.unwrap();
    assert!(
        html.contains("<title>Create your account · Hush</title>"),
        "{html}"
    );
    assert!(html.contains(r#"autocomplete="new-password""#));
}

#[tokio::test]
async fn an_unknown_address_is_404() {
    let server = TestServer::start().await;
    let response = server.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Nothing here"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = TestServer::start().await;
    let prelogin = server
        .post("prelogin", serde_json::json!({"username": "nobody"}), None)
        .await;
    let responses = [
        ("a page", server.get("/").await),
        ("a 404", server.get("/no/such/page").await),
        ("the health check", server.get("/healthz").await),
        ("the API", prelogin),
        (
            "a Socket.IO handshake",
            server.get(crate::live::POLLING).await,
        ),
    ];
    for (what, response) in responses {
        let headers = response.headers();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{what} lacks {name}"))
                .to_owned()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
        assert_eq!(header("x-frame-options"), "DENY", "{what}");
        assert_eq!(
            header("cross-origin-opener-policy"),
            "same-origin",
            "{what}"
        );
        assert!(header("permissions-policy").contains("camera=()"), "{what}");
    }
}

/// The nonce a page's content security policy names.
fn csp_nonce(response: &reqwest::Response) -> String {
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "script-src 'nonce-",
        "'strict-dynamic'",
        "'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "connect-src 'self'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    let start = policy.find("'nonce-").unwrap() + "'nonce-".len();
    policy[start..].split('\'').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_page_allows_only_its_own_nonced_scripts() {
    let server = TestServer::start().await;
    let first = server.get("/").await;
    let nonce = csp_nonce(&first);
    assert!(nonce.len() >= 16, "{nonce}");
    let html = first.text().await.unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts > 0, "the page has its hydration scripts");
    assert_eq!(
        html.matches(&format!(r#"nonce="{nonce}""#)).count(),
        scripts,
        "every script carries this response's nonce: {html}"
    );
    let second = csp_nonce(&server.get("/signup").await);
    assert_ne!(second, nonce, "a nonce is never reused");
    let api = server
        .post("prelogin", serde_json::json!({"username": "nobody"}), None)
        .await;
    assert!(api.headers().get("content-security-policy").is_none());
}
