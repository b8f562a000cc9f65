//! The server is blind, and this proves it: real conversations carry
//! planted canary words, members hold sockets that receive them, then every
//! file in the data directory (database, WAL, secrets) and everything the
//! server logged at TRACE level (through the server's own log caps) are
//! searched for the canaries, for the content keys and private keys in
//! every encoding, for the session tokens, and for a contact book's key and
//! contents (it is stored sealed, as the browser seals it). Nothing may be found. The
//! captured log must show the sends and the sockets happened, so the search
//! cannot pass by capturing nothing.

use hush::crypto::native::{self, Key32};
use hush::crypto::pins::{Contact, Shared};
use hush::model::account::PublicUser;
use hush::model::encoding::b64;

use crate::chat::{self, seal, send};
use crate::live::Live;
use crate::util::{TestServer, capture_logs};

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// A current-thread runtime: the server's tasks run on this thread, so the
// thread's default subscriber sees everything they log.
#[tokio::test(flavor = "current_thread")]
async fn no_plaintext_and_no_key_reaches_the_database_or_the_log() {
    let (log, _guard) = capture_logs();

    let server = TestServer::start_for_accounts().await;
    let password = "canary-password-7f3e";
    let hi = server.sign_up("hi89", password).await;
    let lo = server.sign_up("lo89", password).await;
    let mid = server.sign_up("mid89", password).await;
    let pair = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let group = chat::create(&server, &lo, &[&lo, &mid, &hi], Some("Book club")).await;

    // Sockets that carry their token in the CONNECT packet's `auth`, and
    // receive the pushes.
    let mut sockets = Vec::new();
    for account in [&hi, &lo, &mid] {
        sockets.push(Live::connect(&server, &account.token).await);
    }
    let joined = sockets[1]
        .ask("join-conversation", group.id.as_str().into())
        .await;
    assert_eq!(joined, serde_json::json!({"ok": true}));

    let canaries = [
        "zebra-canary-4711",
        "Quokka Marmalade Vortex",
        "naïve café ünïcödé canary ✓",
    ];
    let mut last_id = String::new();
    for (i, canary) in canaries.iter().enumerate() {
        let body = seal(&pair.id, &pair.ck, &hi, &format!("{canary} #{i}"));
        assert_eq!(send(&server, &hi, &body).await.0, 200);
        let body = seal(&group.id, &group.ck, &mid, canary);
        last_id = body["message_id"].as_str().unwrap().to_owned();
        assert_eq!(send(&server, &mid, &body).await.0, 200);
    }
    let (status, _) = chat::history(
        &server,
        &lo,
        serde_json::json!({"conversation_id": group.id, "limit": 10}),
    )
    .await;
    assert_eq!(status, 200);
    let pushed = sockets[0].expect("new-message").await;
    assert_eq!(pushed["conversation_id"], pair.id.as_str());

    // hi89's contact book, sealed under its cbk as the browser seals it.
    let book_canary = "bookcanary9431";
    let cbk = native::contacts_key(&Key32::from_bytes(&[0x5a; 32]).unwrap());
    let shared = Shared {
        prev: String::new(),
        contacts: vec![Contact {
            user: PublicUser {
                id: lo.id.parse().unwrap(),
                username: book_canary.into(),
                dh_public: lo.dh_public.into(),
                sig_public: lo.sig_public.into(),
            },
            verified: true,
        }],
    };
    let plain = serde_json::to_vec(&shared).unwrap();
    let sealed = native::seal_book(&cbk, &hi.id, 1, &[7; 12], &plain).unwrap();
    assert_eq!(crate::contacts::put(&server, &hi, 1, &sealed).await.0, 200);

    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    secrets.push((
        "the contact book's canary".into(),
        book_canary.as_bytes().to_vec(),
    ));
    secrets.push(("the contact book's plaintext".into(), plain.clone()));
    let cbk_bytes = cbk.expose().to_vec();
    secrets.push(("cbk (b64)".into(), b64(&cbk_bytes).into_bytes()));
    secrets.push(("cbk (hex)".into(), hex(&cbk_bytes).into_bytes()));
    secrets.push(("cbk".into(), cbk_bytes));
    for canary in canaries {
        secrets.push((format!("canary {canary:?}"), canary.as_bytes().to_vec()));
    }
    secrets.push(("the password".into(), password.as_bytes().to_vec()));
    for (name, key) in [("pair ck", &pair.ck), ("group ck", &group.ck)] {
        let bytes = key.ck.expose().to_vec();
        secrets.push((format!("{name} (b64)"), b64(&bytes).into_bytes()));
        secrets.push((format!("{name} (hex)"), hex(&bytes).into_bytes()));
        secrets.push((name.to_owned(), bytes));
    }
    for account in [&hi, &lo, &mid] {
        let name = format!("{}'s session token", account.username);
        secrets.push((name, account.token.as_bytes().to_vec()));
        for (kind, key) in [("dh", &account.dh), ("sig", &account.sig)] {
            let pkcs8 = key.to_pkcs8().to_vec();
            let name = format!("{}'s {kind} private key", account.username);
            secrets.push((format!("{name} (b64)"), b64(&pkcs8).into_bytes()));
            secrets.push((name, pkcs8));
        }
    }

    drop(sockets);
    server
        .running
        .stop()
        .await
        .expect("the server stops cleanly");
    let log = log.lock().unwrap().clone();
    let log_text = String::from_utf8_lossy(&log);
    assert!(
        log_text.contains("contact book stored"),
        "the capture saw the book stored"
    );
    assert!(
        log_text.contains("socket connected"),
        "the capture saw the sockets: {} bytes",
        log_text.len()
    );
    assert!(
        log_text.contains(&last_id) && log_text.contains("message stored"),
        "the capture saw the server's debug lines: {} bytes, stored: {}, id: {}",
        log_text.len(),
        log_text.contains("message stored"),
        log_text.contains(&last_id)
    );

    let mut files = crate::util::everything_stored(server.data.path()).await;
    assert!(
        files.iter().any(|(what, _)| what == "the database"),
        "the database file is among the files searched: {:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    files.push(("the server log".into(), log));
    for (what, haystack) in &files {
        for (name, needle) in &secrets {
            assert!(!contains(haystack, needle), "{name} found in {what}");
        }
    }
}
