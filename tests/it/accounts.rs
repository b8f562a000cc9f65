//! Accounts over HTTP against the real server: signup, prelogin, login,
//! logout, lookup; the contract's errors; tokens that must not work; the
//! throttle; and unknown users indistinguishable from wrong passwords.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use hush::crypto::native;
use hush::crypto::suite::KeyKind;
use hush::model::encoding::{b64, unb64};
use hush::server::auth::{secrets::ServerSecrets, token};
use serde_json::{Value, json};

use crate::util::{PasswordKeys, TEST_ITERATIONS, TestServer, assert_rate_limited, signup_body};

const PASSWORD: &str = "correct horse battery staple";

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Logs in as the browser would: prelogin, derive, login.
pub async fn log_in(
    server: &TestServer,
    typed: &str,
    password: &str,
) -> (u16, Value, PasswordKeys) {
    let canonical = hush::model::username::canonical(typed).unwrap();
    let username = canonical.as_str();
    let (status, params) = json_of(
        server
            .post("prelogin", json!({"username": typed}), None)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let salt = unb64(params["kdf_salt"].as_str().unwrap()).unwrap();
    let iterations = params["kdf_iterations"].as_u64().unwrap() as u32;
    let keys = PasswordKeys::derive(username, password, &salt, iterations);
    let body = json!({"username": typed, "auth_key": b64(keys.auth_key.expose())});
    let (status, answer) = json_of(server.post("login", body, None).await).await;
    (status, answer, keys)
}

#[tokio::test]
async fn signup_sets_a_strict_http_only_cookie() {
    let server = TestServer::start_for_accounts().await;
    let keys = PasswordKeys::derive("hi89", PASSWORD, &[1; 16], TEST_ITERATIONS);
    let body = signup_body("hi89", keys.auth_key.expose(), &[1; 16]);
    let response = server.post("signup", body, None).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("hush_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["user"]["username"], "hi89");
    assert!(
        answer["token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
}

#[tokio::test]
async fn login_returns_the_identity_that_unwraps_to_the_same_keys() {
    let server = TestServer::start_for_accounts().await;
    let account = server.sign_up("Lo89", PASSWORD).await;
    assert_eq!(
        account.username, "lo89",
        "names are stored in canonical form"
    );

    let (status, answer, keys) = log_in(&server, "LO89", PASSWORD).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["user"]["id"], account.id.as_str());
    let identity = &answer["identity"];
    assert_eq!(identity["dh_public"], b64(&account.dh_public));
    assert_eq!(identity["sig_public"], b64(&account.sig_public));
    for (kind, field, public) in [
        (KeyKind::Dh, "dh_private_wrapped", account.dh_public),
        (KeyKind::Sig, "sig_private_wrapped", account.sig_public),
    ] {
        let wrapped = unb64(identity[field].as_str().unwrap()).unwrap();
        let key = native::unwrap_identity(&keys.kek, "lo89", kind, &wrapped, &public).unwrap();
        assert_eq!(key.public(), public);
    }
}

async fn lookup(server: &TestServer, name: &str, token: Option<&str>) -> (u16, Value) {
    json_of(
        server
            .post("users/lookup", json!({"username": name}), token)
            .await,
    )
    .await
}

async fn ask(server: &TestServer, name: &str) -> (u16, Value) {
    json_of(
        server
            .post("prelogin", json!({"username": name}), None)
            .await,
    )
    .await
}

#[tokio::test]
async fn prelogin_gives_the_real_salt_or_a_stable_fake_one() {
    let server = TestServer::start_for_accounts().await;
    server.sign_up("alice", PASSWORD).await;
    let (_, real) = ask(&server, "alice").await;
    assert_eq!(real["kdf_iterations"], TEST_ITERATIONS);
    let (status, fake) = ask(&server, "nobody").await;
    assert_eq!(status, 200);
    assert_eq!(fake["kdf_iterations"], 600_000);
    assert_eq!(unb64(fake["kdf_salt"].as_str().unwrap()).unwrap().len(), 16);
    assert_eq!(ask(&server, "nobody").await.1, fake, "stable");
    assert_eq!(ask(&server, "NoBody").await.1, fake, "by canonical name");
    assert_ne!(
        ask(&server, "someone").await.1["kdf_salt"],
        fake["kdf_salt"]
    );
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let server = TestServer::start_for_accounts().await;
    server.sign_up("alice", PASSWORD).await;
    let (wrong_status, wrong, _) = log_in(&server, "alice", "not the password at all").await;
    let (unknown_status, unknown, _) = log_in(&server, "mallory", PASSWORD).await;
    assert_eq!(wrong_status, 401);
    assert_eq!((unknown_status, &unknown), (wrong_status, &wrong));
    assert_eq!(wrong["error"], "unauthorized");
}

#[tokio::test]
async fn duplicate_names_are_refused_whatever_the_case() {
    let server = TestServer::start_for_accounts().await;
    server.sign_up("alice", PASSWORD).await;
    let keys = PasswordKeys::derive("alice", PASSWORD, &[2; 16], TEST_ITERATIONS);
    let body = signup_body("ALICE", keys.auth_key.expose(), &[2; 16]);
    let (status, error) = json_of(server.post("signup", body, None).await).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (409, Some("username_taken"))
    );
}

#[tokio::test]
async fn malformed_bodies_get_400_naming_the_field() {
    let server = TestServer::start_for_accounts().await;
    // A valid body with one field replaced (or removed, for `None`).
    let with = |pointer: &str, value: Option<Value>| {
        let mut body = signup_body("carol", &[3; 32], &[3; 16]);
        match value {
            Some(value) => *body.pointer_mut(pointer).unwrap() = value,
            None => {
                body.as_object_mut().unwrap().remove(&pointer[1..]);
            }
        }
        body
    };
    let compressed = {
        let mut k = native::PrivateKey::generate().public();
        k[0] = 2;
        b64(&k[..33])
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (with("/auth_key", None), "invalid_request", "auth_key"),
        (
            with("/auth_key", Some(json!("not base64!"))),
            "invalid_encoding",
            "auth_key",
        ),
        (
            with("/auth_key", Some(json!(b64(&[3; 16])))),
            "invalid_encoding",
            "auth_key",
        ),
        (
            with("/kdf_salt", Some(json!(format!("{}=", b64(&[3; 16]))))),
            "invalid_encoding",
            "kdf_salt",
        ),
        (
            with("/username", Some(json!("no spaces"))),
            "invalid_request",
            "username",
        ),
        (
            with("/kdf_iterations", Some(json!(10))),
            "kdf_too_weak",
            "kdf_iterations",
        ),
        (
            with("/kdf_iterations", Some(json!("many"))),
            "invalid_request",
            "kdf_iterations",
        ),
        (
            with("/identity/dh_public", Some(json!(compressed))),
            "invalid_encoding",
            "identity.dh_public",
        ),
    ];
    for (body, code, field) in cases {
        let (status, error) = json_of(server.post("signup", body, None).await).await;
        assert_eq!(status, 400, "{field}: {error}");
        assert_eq!(error["error"], code, "{field}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "{field}: {error}"
        );
    }
    let (status, _) = json_of(
        server
            .http
            .post(server.url("/api/login"))
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn lookup_needs_a_session_and_finds_by_name() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let bob = server.sign_up("bob", PASSWORD).await;
    let (status, found) = lookup(&server, "Bob", Some(&alice.token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        found,
        json!({"id": bob.id, "username": "bob", "dh_public": b64(&bob.dh_public), "sig_public": b64(&bob.sig_public)})
    );
    let (status, error) = lookup(&server, "zed", Some(&alice.token)).await;
    assert_eq!((status, error["error"].as_str()), (404, Some("not_found")));
    assert_eq!(lookup(&server, "bob", None).await.0, 401);
}

#[tokio::test]
async fn logout_ends_the_token_at_once() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let (status, body) = json_of(server.post("logout", json!({}), Some(&alice.token)).await).await;
    assert_eq!((status, body), (200, json!({})));
    let (status, error) = lookup(&server, "alice", Some(&alice.token)).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _, _) = log_in(&server, "alice", PASSWORD).await;
    assert_eq!(status, 200, "a new login works");
}

#[tokio::test]
async fn expired_foreign_and_unsigned_tokens_are_401() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let secrets = ServerSecrets::load_or_create(server.data.path(), None).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let id = alice.id.parse().unwrap();
    let expired = token::issue(secrets.token_key(), id, 0, now - 3600, 60);
    let foreign = token::issue(b"some other server's key, 32 bytes", id, 0, now, 600);
    let claims = alice.token.split('.').nth(1).unwrap();
    let unsigned = format!("{}.{claims}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
    for bad in [expired, foreign, unsigned, "garbage".to_owned()] {
        let (status, error) = lookup(&server, "alice", Some(&bad)).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (401, Some("unauthorized")),
            "{bad}"
        );
    }
    let (status, _) = lookup(&server, "alice", Some(&alice.token)).await;
    assert_eq!(status, 200, "the genuine token still works");
}

#[tokio::test]
async fn regression_fifty_concurrent_wrong_logins_verify_at_most_the_limit() {
    // The throttle used to be checked before the hash and counted after
    // it, so wrong logins made at once all passed the check.
    let server = TestServer::start_for_accounts().await;
    server.sign_up("alice", PASSWORD).await;
    let wrong = json!({"username": "alice", "auth_key": b64(&[9; 32])});
    let attempts = (0..50).map(|_| async {
        let response = server.post("login", wrong.clone(), None).await;
        response.status().as_u16()
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let verified = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(verified + refused, 50, "{statuses:?}");
    // At most two are checked at once per account and address, the rest
    // refused at once; over the burst, never more than the limit.
    assert!(
        (1..=10).contains(&verified),
        "at most the per-account-and-address limit was verified: {verified}"
    );
}

#[tokio::test]
async fn sign_ups_are_throttled_per_address() {
    let server = TestServer::start_with(|s| {
        s.kdf_min_iterations = TEST_ITERATIONS;
        s.signups_per_address = 3;
    })
    .await;
    // A malformed sign-up is refused for what it is and not counted.
    let bad = json!({"username": "x"});
    assert_eq!(
        server.post("signup", bad, None).await.status().as_u16(),
        400
    );
    for name in ["ann", "bob", "cyd"] {
        server.sign_up(name, PASSWORD).await;
    }
    let salt = [1; 16];
    let body = signup_body("dan", &[2; 32], &salt);
    assert_rate_limited(server.post("signup", body, None).await).await;
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_account_and_address() {
    let server = TestServer::start_for_accounts().await;
    server.sign_up("alice", PASSWORD).await;
    let wrong = json!({"username": "alice", "auth_key": b64(&[9; 32])});
    for attempt in 0..10 {
        let (status, _) = json_of(server.post("login", wrong.clone(), None).await).await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    assert_rate_limited(server.post("login", wrong.clone(), None).await).await;

    // The real user, from another address, is not locked out.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    let params: Value = elsewhere
        .post(server.url("/api/prelogin"))
        .json(&json!({"username": "alice"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let salt = unb64(params["kdf_salt"].as_str().unwrap()).unwrap();
    let keys = PasswordKeys::derive("alice", PASSWORD, &salt, TEST_ITERATIONS);
    let response = elsewhere
        .post(server.url("/api/login"))
        .json(&json!({"username": "alice", "auth_key": b64(keys.auth_key.expose())}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The bytes of every file in `dir` (the database, its WAL, the secrets).
#[tokio::test]
async fn the_server_keeps_nothing_that_opens_without_the_password() {
    let server = TestServer::start_for_accounts().await;
    let (name, password) = ("dora", "a secret only dora knows 🐙");
    let kdf_salt = crate::util::random::<16>();
    let mk = native::master_key(name, password, &kdf_salt, TEST_ITERATIONS);
    let (auth_key, kek) = (native::auth_key(&mk), native::kek(&mk));
    let dh = native::PrivateKey::generate();
    let sig = native::PrivateKey::generate();
    let wrap = |kind, key: &native::PrivateKey| {
        b64(&native::wrap_identity(
            &kek,
            name,
            kind,
            &key.to_pkcs8(),
            &crate::util::random::<12>(),
        )
        .unwrap())
    };
    let mut body = signup_body(name, auth_key.expose(), &kdf_salt);
    body["identity"] = json!({
        "dh_public": b64(&dh.public()), "sig_public": b64(&sig.public()),
        "dh_private_wrapped": wrap(KeyKind::Dh, &dh), "sig_private_wrapped": wrap(KeyKind::Sig, &sig),
    });
    assert_eq!(server.post("signup", body, None).await.status(), 200);
    let (status, _, _) = log_in(&server, name, password).await;
    assert_eq!(status, 200);

    let secrets: [(&str, Vec<u8>); 6] = [
        ("password", password.as_bytes().to_vec()),
        ("mk", mk.expose().to_vec()),
        ("auth_key", auth_key.expose().to_vec()),
        ("kek", kek.expose().to_vec()),
        ("dh private key", dh.to_pkcs8().to_vec()),
        ("sig private key", sig.to_pkcs8().to_vec()),
    ];
    let files = crate::util::everything_stored(server.data.path()).await;
    assert!(files.iter().any(|(what, _)| what == "the database"));
    assert!(
        files
            .iter()
            .any(|(_, bytes)| bytes.windows(65).any(|w| w == dh.public())),
        "the scan does see what is stored (the public key)"
    );
    for (what, secret) in &secrets {
        for (path, bytes) in &files {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_slice());
            assert!(!found, "{what} found in {path}");
        }
    }
}

#[tokio::test]
async fn prelogin_is_throttled_per_account_and_address() {
    let server = TestServer::start_for_accounts().await;
    for attempt in 0..30 {
        let (status, _) = ask(&server, "alice").await;
        assert_eq!(status, 200, "attempt {attempt}");
    }
    let response = server
        .post("prelogin", json!({"username": "alice"}), None)
        .await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        ask(&server, "bob").await.0,
        200,
        "another account is not affected"
    );
}

/// A wrong login for `alice` as forwarded for `client` by a proxy.
async fn wrong_login_via(server: &TestServer, client: &str) -> u16 {
    server
        .http
        .post(server.url("/api/login"))
        .header("Accept", "application/json")
        .header("X-Forwarded-For", client)
        .json(&json!({"username": "alice", "auth_key": b64(&[9; 32])}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn regression_behind_a_trusted_proxy_each_client_has_its_own_throttle() {
    let server = TestServer::start_with(|s| {
        s.kdf_min_iterations = TEST_ITERATIONS;
        s.trusted_proxies = vec![hush::server::address::Cidr::parse("127.0.0.1").unwrap()];
    })
    .await;
    server.sign_up("alice", PASSWORD).await;
    for attempt in 0..10 {
        assert_eq!(
            wrong_login_via(&server, "203.0.113.5").await,
            401,
            "{attempt}"
        );
    }
    assert_eq!(wrong_login_via(&server, "203.0.113.5").await, 429);
    // Another client behind the same proxy is not locked out with it, nor
    // one that forges its way in front of the proxy's entry.
    assert_eq!(wrong_login_via(&server, "203.0.113.6").await, 401);
    assert_eq!(
        wrong_login_via(&server, "203.0.113.5, 203.0.113.7").await,
        401
    );
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let server = TestServer::start_for_accounts().await;
    server.sign_up("alice", PASSWORD).await;
    for attempt in 0..10 {
        let forged = format!("198.51.100.{attempt}");
        assert_eq!(wrong_login_via(&server, &forged).await, 401, "{attempt}");
    }
    assert_eq!(wrong_login_via(&server, "198.51.100.99").await, 429);
}

/// Found by fuzzing (`request_bodies`): the decoder read the first JSON
/// value and ignored what followed, so two bodies in one were accepted.
#[tokio::test]
async fn regression_bytes_after_a_body_are_refused() {
    let server = TestServer::start_for_accounts().await;
    for body in [
        r#"{"username":"alice"}{"username":"bob"}"#,
        "{\"username\":\"alice\"}\u{ff}",
    ] {
        let response = server
            .http
            .post(server.url("/api/prelogin"))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request", "{body}");
    }
    let whole = server
        .post("prelogin", json!({"username": "alice"}), None)
        .await;
    assert_eq!(whole.status(), 200);
}
