//! The native twin of `hush-v1` against the committed vectors, which an
//! independent implementation (tools/vectors/gen_hush_v1.py, pyca
//! cryptography) produced. The browser's WebCrypto code is checked against
//! the same file in end2end/.

use hush::crypto::CryptoError;
use hush::crypto::keyset;
use hush::crypto::native::{self, Key32, PrivateKey};
use hush::crypto::suite::{self, KeyKind, MemberKeys};
use hush::model::encoding::unb64;
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/hush-v1.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    let text = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing"));
    unb64(text).unwrap_or_else(|| panic!("{field} is not canonical base64url"))
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing"))
}

fn epoch(v: &Value) -> u32 {
    v["epoch"].as_u64().unwrap() as u32
}

fn key(v: &Value, field: &str) -> Key32 {
    Key32::from_bytes(&bytes(v, field)).unwrap()
}

fn each<'a>(all: &'a Value, group: &str) -> &'a [Value] {
    let list = all[group]
        .as_array()
        .unwrap_or_else(|| panic!("{group} missing"));
    assert!(!list.is_empty(), "{group} is empty");
    list
}

#[test]
fn step1_password_to_keys() {
    let all = vectors();
    for v in each(&all, "password_to_keys") {
        let iterations = v["kdf_iterations"].as_u64().unwrap() as u32;
        let mk = native::master_key(
            text(v, "username"),
            text(v, "password"),
            &bytes(v, "kdf_salt"),
            iterations,
        );
        assert_eq!(
            mk.expose().as_slice(),
            bytes(v, "mk"),
            "mk for {}",
            text(v, "username")
        );
        assert_eq!(
            native::auth_key(&mk).expose().as_slice(),
            bytes(v, "auth_key")
        );
        assert_eq!(native::kek(&mk).expose().as_slice(), bytes(v, "kek"));
    }
}

#[test]
fn keypairs_parse_and_match_their_public_keys() {
    let all = vectors();
    for v in each(&all, "keypairs") {
        let from_pkcs8 = PrivateKey::from_pkcs8(&bytes(v, "pkcs8")).unwrap();
        let from_scalar = PrivateKey::from_scalar(&bytes(v, "private_scalar")).unwrap();
        assert_eq!(
            from_pkcs8.public().as_slice(),
            bytes(v, "public"),
            "{}",
            text(v, "name")
        );
        assert_eq!(from_scalar.public(), from_pkcs8.public());
        // Our own PKCS#8 export is what WebCrypto imports; it must round-trip.
        let again = PrivateKey::from_pkcs8(&from_scalar.to_pkcs8()).unwrap();
        assert_eq!(again.public(), from_scalar.public());
    }
}

#[test]
fn step2_identity_wrap() {
    let all = vectors();
    for v in each(&all, "identity_wrap") {
        let kind = match text(v, "which") {
            "dh" => KeyKind::Dh,
            "sig" => KeyKind::Sig,
            other => panic!("unknown kind {other}"),
        };
        let username = text(v, "username");
        assert_eq!(suite::identity_aad(username, kind), text(v, "aad"));
        let kek = key(v, "kek");
        let wrapped =
            native::wrap_identity(&kek, username, kind, &bytes(v, "pkcs8"), &bytes(v, "nonce"))
                .unwrap();
        assert_eq!(wrapped, bytes(v, "wrapped"));
        let public = PrivateKey::from_pkcs8(&bytes(v, "pkcs8")).unwrap().public();
        let unwrapped = native::unwrap_identity(&kek, username, kind, &wrapped, &public).unwrap();
        assert_eq!(unwrapped.public(), public);
        let other = if kind == KeyKind::Dh {
            KeyKind::Sig
        } else {
            KeyKind::Dh
        };
        assert_eq!(
            native::unwrap_identity(&kek, username, other, &wrapped, &public).unwrap_err(),
            CryptoError::Decrypt,
            "the aad binds the kind"
        );
    }
}

#[test]
fn step3_content_key_wrap() {
    let all = vectors();
    for v in each(&all, "content_key_wrap") {
        let (conversation, member) = (text(v, "conversation_id"), text(v, "member_id"));
        assert_eq!(
            suite::wrap_info(conversation, epoch(v), member),
            text(v, "info")
        );
        let ephemeral = PrivateKey::from_scalar(&bytes(v, "ephemeral_private_scalar")).unwrap();
        assert_eq!(ephemeral.public().as_slice(), bytes(v, "ephemeral_public"));
        let ck = key(v, "ck");
        let wrapped = native::wrap_content_key(
            &ck,
            conversation,
            epoch(v),
            member,
            &bytes(v, "member_dh_public"),
            &ephemeral,
            &bytes(v, "nonce"),
        )
        .unwrap();
        assert_eq!(wrapped, bytes(v, "wrapped_key"));
        let member_dh = PrivateKey::from_pkcs8(&bytes(v, "member_dh_private_pkcs8")).unwrap();
        let unwrapped =
            native::unwrap_content_key(&wrapped, conversation, epoch(v), member, &member_dh)
                .unwrap();
        assert_eq!(unwrapped.expose(), ck.expose());
        assert_eq!(
            native::unwrap_content_key(&wrapped, conversation, epoch(v) + 1, member, &member_dh)
                .unwrap_err(),
            CryptoError::Decrypt,
            "the info binds the epoch"
        );
    }
}

#[test]
fn step6_statement_head_and_keys_signature() {
    let all = vectors();
    for v in each(&all, "keys_signature") {
        let (conversation, signer) = (text(v, "conversation_id"), text(v, "signer_id"));
        let ck = key(v, "ck");
        let commit = native::commit(&ck, conversation, epoch(v));
        assert_eq!(commit.as_slice(), bytes(v, "commit"));
        assert_eq!(bytes(v, "prev"), suite::GENESIS_PREV);
        let lines: Vec<MemberKeys> = v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| MemberKeys {
                member_id: text(m, "member_id").to_owned(),
                username: text(m, "username").to_owned(),
                dh_public: bytes(m, "dh_public"),
                sig_public: bytes(m, "sig_public"),
                wrapped_key_sha256: keyset::sha256(&bytes(m, "wrapped_key")).to_vec(),
            })
            .collect();
        let statement = suite::statement(
            conversation,
            epoch(v),
            signer,
            &commit,
            &bytes(v, "prev"),
            &lines,
            &[],
        );
        assert_eq!(
            String::from_utf8(statement.clone()).unwrap(),
            text(v, "statement")
        );
        assert_eq!(keyset::sha256(&statement).as_slice(), bytes(v, "head"));
        let public = bytes(v, "signer_sig_public");
        native::verify(&public, &statement, &bytes(v, "signature")).unwrap();
        // RFC 6979 signing is deterministic: our signature is the vector's.
        let signer_key = PrivateKey::from_pkcs8(&bytes(v, "signer_sig_pkcs8")).unwrap();
        let ours = native::sign(&signer_key, &statement);
        assert_eq!(ours.as_slice(), bytes(v, "signature"));
        let mut reordered = lines.clone();
        reordered.reverse();
        assert_eq!(
            suite::statement(
                conversation,
                epoch(v),
                signer,
                &commit,
                &bytes(v, "prev"),
                &reordered,
                &[]
            ),
            statement,
            "member order does not matter"
        );
    }
}

#[test]
fn step4_message_seal_and_signature() {
    let all = vectors();
    for v in each(&all, "message_seal") {
        let ids = (
            text(v, "conversation_id"),
            text(v, "message_id"),
            text(v, "sender_id"),
        );
        let head = bytes(v, "head");
        let aad = suite::message_aad(ids.0, epoch(v), &head, ids.1, ids.2);
        assert_eq!(aad, text(v, "aad"));
        let ck = key(v, "ck");
        let nonce = bytes(v, "nonce");
        let ciphertext =
            native::seal_message(&ck, &aad, &nonce, text(v, "plaintext").as_bytes()).unwrap();
        assert_eq!(ciphertext, bytes(v, "ciphertext"));
        let plaintext = native::open_message(&ck, &aad, &nonce, &ciphertext).unwrap();
        assert_eq!(plaintext.as_slice(), text(v, "plaintext").as_bytes());
        let signed = suite::message_signed_bytes(&aad, &nonce, &ciphertext);
        native::verify(
            &bytes(v, "sender_sig_public"),
            &signed,
            &bytes(v, "signature"),
        )
        .unwrap();
        let sender = PrivateKey::from_pkcs8(&bytes(v, "sender_sig_pkcs8")).unwrap();
        assert_eq!(
            native::sign(&sender, &signed).as_slice(),
            bytes(v, "signature")
        );
        let other_sender = suite::message_aad(ids.0, epoch(v), &head, ids.1, ids.0);
        assert_eq!(
            native::open_message(&ck, &other_sender, &nonce, &ciphertext).unwrap_err(),
            CryptoError::Decrypt,
            "another sender id is another aad"
        );
        let other_head = suite::message_aad(ids.0, epoch(v), &[7; 32], ids.1, ids.2);
        assert_eq!(
            native::open_message(&ck, &other_head, &nonce, &ciphertext).unwrap_err(),
            CryptoError::Decrypt,
            "another head is another aad"
        );
    }
}

#[test]
fn signatures_verify_only_when_genuine_high_s_included() {
    let all = vectors();
    let mut saw_high_s = false;
    for v in each(&all, "signature_verify") {
        let outcome = native::verify(
            &bytes(v, "public"),
            &bytes(v, "message"),
            &bytes(v, "signature"),
        );
        let valid = v["valid"].as_bool().unwrap();
        assert_eq!(outcome.is_ok(), valid, "{}", text(v, "comment"));
        if !valid {
            assert_eq!(outcome.unwrap_err(), CryptoError::BadSignature);
        }
        saw_high_s |= valid && v["high_s"].as_bool().unwrap();
    }
    assert!(saw_high_s, "the vectors include a valid high-S signature");
}

#[test]
fn wrong_tag_aad_or_key_fails_to_decrypt() {
    let all = vectors();
    for v in each(&all, "aead_negative") {
        let outcome = native::aead_open(
            &key(v, "key"),
            &bytes(v, "nonce"),
            &bytes(v, "ciphertext"),
            text(v, "aad").as_bytes(),
        );
        assert_eq!(
            outcome.unwrap_err(),
            CryptoError::Decrypt,
            "{}",
            text(v, "comment")
        );
    }
}

#[test]
fn malformed_keys_are_refused() {
    let compressed = {
        let mut k = PrivateKey::generate().public()[..33].to_vec();
        k[0] = 0x02;
        k
    };
    assert!(matches!(
        native::verify(&compressed, b"m", &[0; 64]),
        Err(CryptoError::Invalid { .. })
    ));
    assert!(
        Key32::from_bytes(&[0; 16]).is_err(),
        "a 16-byte key is not AES-256"
    );
    assert!(PrivateKey::from_pkcs8(b"not der").is_err());
}

#[test]
fn key_material_debug_is_redacted() {
    let key = Key32::from_bytes(&[7; 32]).unwrap();
    assert_eq!(format!("{key:?}"), "Key32(<redacted>)");
    assert_eq!(
        format!("{:?}", PrivateKey::generate()),
        "PrivateKey(<redacted>)"
    );
}
