//! The server renders the app's pages with everything the browser needs to
//! hydrate them, and says 404 for an unknown address.

use std::collections::BTreeMap;
use std::path::Path;

use hush::server::build_files;

use crate::util::TestServer;

/// The hashes in the built site's file names (`target/site/hash.txt`).
fn built_hashes() -> BTreeMap<String, String> {
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/site");
    build_files::hashes(&site).unwrap_or_else(|e| {
        panic!(
            "{}/hash.txt: {e}; build the app first with `cargo leptos build --split` (scripts/test does)",
            site.display()
        )
    })
}

#[tokio::test]
async fn build_files_are_kept_for_a_year_and_the_build_list_is_always_checked() {
    let server = TestServer::start().await;
    let build = built_hashes();
    let wasm = server
        .get(&format!("/pkg/hush.{}.wasm", build["wasm"]))
        .await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let list = server.get("/hash.txt").await;
    assert_eq!(list.status(), 200);
    assert_eq!(list.headers()["cache-control"], "no-cache");
    assert!(list.text().await.unwrap().contains(&build["wasm"]));
    assert_eq!(
        server.get("/sw.js").await.headers()["cache-control"],
        "no-cache"
    );
    // A name that is not the build's is not found, and not kept.
    let missing = server.get("/pkg/hush.AAAAAAAAAAAAAAAAAAAAAA.wasm").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("cache-control").is_none());
    // Pages are not kept: they name the build of the moment.
    assert!(
        server
            .get("/")
            .await
            .headers()
            .get("cache-control")
            .is_none()
    );
}

#[tokio::test]
async fn only_the_chats_pages_preload_the_chats_part_of_the_app() {
    let server = TestServer::start().await;
    let build = built_hashes();
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/site");
    assert!(
        build_files::is_split(&site),
        "the build is split by route: {build:?}"
    );
    let manifest = site.join(format!(
        "pkg/__wasm_split_manifest.{}.json",
        build["manifest"]
    ));
    let manifest: BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let parts: Vec<String> = manifest
        .values()
        .flatten()
        .map(|part| format!("/pkg/{part}.wasm"))
        .collect();
    assert!(
        parts.iter().any(|part| part.contains("chats_route")),
        "{parts:?}"
    );
    let loader = format!("/pkg/__wasm_split.{}.js", build["split"]);
    for page in ["/chats", "/chats/01a236cb-d8e7-763b-9492-f46151b6d2c7"] {
        let html = server.get(page).await.text().await.unwrap();
        for part in &parts {
            assert!(
                html.contains(part.as_str()),
                "{page} preloads {part}: {html}"
            );
        }
        assert!(html.contains(&loader), "{page} preloads the parts' loader");
    }
    for page in ["/", "/signup"] {
        let html = server.get(page).await.text().await.unwrap();
        for part in &parts {
            assert!(!html.contains(part.as_str()), "{page} names {part}");
        }
    }
}

/// Many chat pages rendered at once, on two threads, each arriving whole.
/// The chats route is lazy, so the server renders it after an await; the
/// page's title is read after that, outside the request's reactive arena,
/// and the browser tests once saw the server panic there (when the title
/// read a signal) and lose the page. This test has not caught that race
/// itself; it holds the pages whole under concurrency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_pages_rendered_at_once_all_arrive_whole() {
    let server = TestServer::start().await;
    let pages = (0..200).map(|i| {
        let url = server.url(&format!("/chats/01a236cb-d8e7-763b-9492-{i:012}"));
        async move {
            let answer = reqwest::get(&url)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            let status = answer.status();
            let html = answer.text().await.map_err(|e| format!("{url}: {e}"))?;
            if status == 200
                && html.contains("<title>Chats · Hush</title>")
                && html.contains("</body>")
            {
                Ok(())
            } else {
                Err(format!("{url}: {status}: {html}"))
            }
        }
    });
    let failed: Vec<String> = futures_util::future::join_all(pages)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 200 failed: {:?}",
        failed.len(),
        failed.first()
    );
}

#[tokio::test]
async fn sign_in_page_is_rendered_with_its_assets() {
    let server = TestServer::start().await;
    let response = server.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>Sign in · Hush</title>"), "{html}");
    let build = built_hashes();
    assert!(
        html.contains(&format!(r#"href="/pkg/hush.{}.css""#, build["css"])),
        "stylesheet linked by its hashed name"
    );
    assert!(
        html.contains(&format!("/pkg/hush.{}.js", build["js"])),
        "hydration script linked by its hashed name"
    );
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

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_host_bound_hsts_is_sent_and_the_scheme_checked() {
    let server = TestServer::start_with(|s| {
        s.kdf_min_iterations = crate::util::TEST_ITERATIONS;
        s.public_url = Some("https://chat.example.test".into());
    })
    .await;
    let page = server.get("/").await;
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );

    let cookie = session_cookie_of_signup(&server).await;
    assert!(cookie.starts_with("__Host-hush_session="), "{cookie}");
    for part in ["; Path=/", "; HttpOnly", "; SameSite=Strict", "; Secure"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let token = cookie["__Host-hush_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let lookup = |cookie: String| {
        let request = server
            .http
            .post(server.url("/api/users/lookup"))
            .header("Accept", "application/json")
            .header("Cookie", cookie)
            .json(&serde_json::json!({"username": "alice"}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(lookup(format!("__Host-hush_session={token}")).await, 200);
    assert_eq!(
        lookup(format!("hush_session={token}")).await,
        401,
        "the unprefixed cookie does not count over HTTPS"
    );

    let from = |origin: &'static str| {
        let request = server
            .http
            .post(server.url("/api/prelogin"))
            .header("Accept", "application/json")
            .header("Origin", origin)
            .json(&serde_json::json!({"username": "alice"}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(from("https://chat.example.test").await, 200);
    assert_eq!(
        from("http://chat.example.test").await,
        403,
        "the scheme is checked"
    );
}

#[tokio::test]
async fn over_plain_http_there_is_no_hsts_and_the_cookie_is_not_secure() {
    let server = TestServer::start_for_accounts().await;
    assert!(
        server
            .get("/")
            .await
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    let cookie = session_cookie_of_signup(&server).await;
    assert!(cookie.starts_with("hush_session="), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

/// The `Set-Cookie` value a sign-up of `alice` answers with.
async fn session_cookie_of_signup(server: &TestServer) -> String {
    let salt = [1; 16];
    let keys = crate::util::PasswordKeys::derive(
        "alice",
        "pw pw pw pw",
        &salt,
        crate::util::TEST_ITERATIONS,
    );
    let body = crate::util::signup_body("alice", keys.auth_key.expose(), &salt);
    let signed_up = server.post("signup", body, None).await;
    assert_eq!(signed_up.status(), 200);
    signed_up.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned()
}
