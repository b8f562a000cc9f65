//! The native twin of `hush-v1` against the committed vectors, which an
//! independent implementation (tools/vectors/gen_hush_v1.py, pyca
//! cryptography) produced, each through the app's own code: the twin, the
//! key-set verifier (`crypto::keyset`), the contact book (`crypto::pins`),
//! safety numbers (`crypto::safety`) and the prelogin rule
//! (`model::suite::kdf_params_ok`). The browser's WebCrypto code is checked
//! against the same file in end2end/ (`crypto::web::self_test`).

use hush::crypto::CryptoError;
use hush::crypto::key_tree::{self, KeyTree};
use hush::crypto::keyset;
use hush::crypto::native::{self, Key32, PrivateKey};
use hush::crypto::pins::{Anchor, Book, Shared, Sight};
use hush::crypto::safety::{self, SafetyNumber};
use hush::crypto::suite::{self, GENESIS_PREV, KeyKind, MemberKeys};
use hush::model::account::{KdfParams, PublicUser};
use hush::model::conversation::{Conversation, WrappedKey};
use hush::model::encoding::{b64, unb64};
use hush::model::ids::UserId;
use hush::model::plain::{self, Plain};
use hush::model::suite::{is_uncompressed_point, kdf_params_ok};
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

/// A vector epoch's member lines, as a statement takes them.
fn member_lines(v: &Value) -> Vec<MemberKeys> {
    v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| MemberKeys {
            member_id: text(m, "member_id").to_owned(),
            username: text(m, "username").to_owned(),
            dh_public: bytes(m, "dh_public"),
            sig_public: bytes(m, "sig_public"),
        })
        .collect()
}

/// A vector epoch's key root, built by the app's key tree from its
/// members' wrapped keys, and checked against the vector's.
fn key_root(v: &Value) -> Vec<u8> {
    let keys: Vec<WrappedKey> = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| WrappedKey {
            member_id: text(m, "member_id").parse().unwrap(),
            wrapped_key: bytes(m, "wrapped_key").into(),
            path: Default::default(),
        })
        .collect();
    let (tree, _) = KeyTree::of_keys(&keys).unwrap();
    assert_eq!(tree.root().to_vec(), bytes(v, "key_root"));
    tree.root().to_vec()
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
        let lines = member_lines(v);
        let root = key_root(v);
        let statement = suite::statement(
            conversation,
            epoch(v),
            signer,
            &commit,
            &bytes(v, "prev"),
            &root,
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
                &root,
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
        let padded = plain::pad(text(v, "plaintext").as_bytes());
        assert_eq!(padded, bytes(v, "padded"));
        let ciphertext = native::seal_message(&ck, &aad, &nonce, &padded).unwrap();
        assert_eq!(ciphertext, bytes(v, "ciphertext"));
        let opened = native::open_message(&ck, &aad, &nonce, &ciphertext).unwrap();
        let plaintext = plain::unpad(&opened).unwrap();
        assert_eq!(plaintext, text(v, "plaintext").as_bytes());
        // The app's own reading of it: one of the kinds, whole.
        let read = Plain::from_sealed(&opened).unwrap();
        assert_eq!(serde_json::to_vec(&read).unwrap(), plaintext);
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
fn padding_matches_byte_for_byte_and_refuses_what_is_not_padded() {
    let all = vectors();
    let padding = &all["padding"];
    let lengths = padding["lengths"].as_array().unwrap();
    assert!(lengths.len() >= 10);
    for v in lengths {
        let json = bytes(v, "json");
        let padded = plain::pad(&json);
        assert_eq!(padded, bytes(v, "padded"));
        assert_eq!(padded.len() as u64, v["length"].as_u64().unwrap());
        assert_eq!(plain::unpad(&padded), Some(json.as_slice()));
    }
    let refused = padding["refused"].as_array().unwrap();
    assert!(refused.len() >= 4);
    for v in refused {
        assert_eq!(
            plain::unpad(&bytes(v, "padded")),
            None,
            "{}",
            text(v, "comment")
        );
    }
}

#[test]
fn signatures_verify_only_when_genuine_high_s_included() {
    let all = vectors();
    let mut saw_high_s = false;
    let mut makers = std::collections::BTreeSet::new();
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
        if valid {
            makers.insert(text(v, "made_by").to_owned());
        }
    }
    assert!(saw_high_s, "the vectors include a valid high-S signature");
    assert_eq!(
        makers.into_iter().collect::<Vec<_>>(),
        ["python-rfc6979", "rust-p256", "webcrypto-chromium"],
        "a valid signature from each direction"
    );
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

#[test]
fn step8_contact_book_seal_and_open() {
    let all = vectors();
    let mks: Vec<(&str, Vec<u8>)> = each(&all, "password_to_keys")
        .iter()
        .map(|v| (text(v, "username"), bytes(v, "mk")))
        .collect();
    let mut before: Option<(&str, u64, Vec<u8>)> = None;
    for v in each(&all, "contact_book") {
        let (username, user_id) = (text(v, "username"), text(v, "user_id"));
        let version = v["version"].as_u64().unwrap();
        let mk = &mks.iter().find(|(name, _)| *name == username).unwrap().1;
        assert_eq!(
            *mk,
            bytes(v, "mk"),
            "mk is password_to_keys' for {username}"
        );
        let cbk = native::contacts_key(&Key32::from_bytes(mk).unwrap());
        assert_eq!(cbk.expose().as_slice(), bytes(v, "cbk"));
        assert_eq!(suite::contacts_aad(user_id, version), text(v, "aad"));
        let plaintext = text(v, "plaintext").as_bytes();
        let sealed =
            native::seal_book(&cbk, user_id, version, &bytes(v, "nonce"), plaintext).unwrap();
        assert_eq!(b64(&sealed), text(v, "sealed"), "{username} v{version}");
        let opened = native::open_book(&cbk, user_id, version, &sealed).unwrap();
        assert_eq!(String::from_utf8_lossy(&opened), text(v, "plaintext"));
        for other in [version.saturating_sub(1), version + 1] {
            assert_eq!(
                native::open_book(&cbk, user_id, other, &sealed).unwrap_err(),
                CryptoError::Decrypt,
                "version {other} is another aad"
            );
        }
        // The plaintext is crypto::pins::Shared as serde_json writes it...
        let shared: Shared = serde_json::from_slice(&opened).unwrap();
        assert_eq!(
            serde_json::to_string(&shared).unwrap(),
            text(v, "plaintext")
        );
        // ...and exactly what the app's book writes once it holds these contacts.
        let me = PublicUser {
            id: user_id.parse().unwrap(),
            username: username.to_owned(),
            dh_public: Default::default(),
            sig_public: Default::default(),
        };
        let mut book = Book::default();
        for contact in &shared.contacts {
            assert_eq!(book.sight(&me, &contact.user), Sight::New);
            assert!(book.set_verified(contact.user.id, contact.verified));
        }
        let written = book.shared(shared.prev.clone());
        assert_eq!(
            serde_json::to_string(&written).unwrap(),
            text(v, "plaintext"),
            "the book writes it so"
        );
        // prev names the sealed copy before it, as the book's rollback check reads it.
        match before.take() {
            Some((who, at, sealed_before)) if who == user_id && at + 1 == version => {
                assert_eq!(shared.prev, b64(&keyset::sha256(&sealed_before)));
                book.anchored(
                    Anchor {
                        version: at,
                        hash: keyset::sha256(&sealed_before).into(),
                    },
                    true,
                );
                assert_eq!(book.check_prev(version, &shared), Ok(()));
                book.anchored(
                    Anchor {
                        version: at,
                        hash: keyset::sha256(&sealed).into(),
                    },
                    true,
                );
                assert!(book.check_prev(version, &shared).is_err(), "another prev");
            }
            _ => assert_eq!((version, shared.prev.as_str()), (1, ""), "v1 names nothing"),
        }
        before = Some((user_id, version, sealed));
    }
}

#[test]
fn step9_safety_numbers() {
    let all = vectors();
    let mut saw_libsignal = false;
    for v in each(&all, "safety_number") {
        let parties = v["parties"].as_array().unwrap();
        let hashes: Vec<[u8; 64]> = parties
            .iter()
            .map(|p| {
                let hash = safety::party_hash(&bytes(p, "key"), &bytes(p, "id"));
                assert_eq!(hash.as_slice(), bytes(p, "hash"), "{}", text(v, "comment"));
                assert_eq!(safety::party_digits(&hash), text(p, "digits"));
                hash
            })
            .collect();
        for (a, b) in [(0, 1), (1, 0)] {
            let number = SafetyNumber::from_hashes(hashes[a], hashes[b]);
            assert_eq!(number.digits, text(v, "digits"), "{}", text(v, "comment"));
            assert_eq!(number.qr.as_slice(), bytes(v, "qr"));
            assert_eq!(number.groups().concat(), number.digits);
        }
        if let Some(users) = v["users"].as_array() {
            let users: Vec<PublicUser> = users
                .iter()
                .map(|u| serde_json::from_value(u.clone()).unwrap())
                .collect();
            for (user, p) in users.iter().zip(parties) {
                assert_eq!(
                    [&user.sig_public[..], &user.dh_public[..]].concat(),
                    bytes(p, "key")
                );
                assert_eq!(user.id.as_bytes().as_slice(), bytes(p, "id"));
            }
            for (a, b) in [(0, 1), (1, 0)] {
                let number = SafetyNumber::of(&users[a], &users[b]);
                assert_eq!(number.digits, text(v, "digits"));
                assert_eq!(number.qr.as_slice(), bytes(v, "qr"));
            }
        } else {
            saw_libsignal |=
                text(v, "digits") == "300354477692869396892869876765458257569162576843440918079131";
        }
    }
    assert!(saw_libsignal, "libsignal's published vector is there");
}

/// What a member (the vector's `holder`) makes of a conversation: the
/// chain's rules, every signature, then its own key's length and commit.
fn verdict(conversation: &Conversation, holder: &Value) -> Result<(), String> {
    let chain = keyset::check_chain(conversation).map_err(|r| r.code())?;
    for checked in &chain {
        for proof in checked.proofs() {
            native::verify(proof.key, proof.message, proof.signature)
                .map_err(|_| proof.refusal.code())?;
        }
    }
    let member: UserId = text(holder, "member_id").parse().unwrap();
    let dh = PrivateKey::from_pkcs8(&bytes(holder, "dh_private_pkcs8")).unwrap();
    let id = conversation.id.to_string();
    for checked in &chain {
        let Some(wrapped) = checked.key_for(member) else {
            continue;
        };
        let ck = native::unwrap_content_key(wrapped, &id, checked.epoch, &member.to_string(), &dh)
            .map_err(|e| format!("unwrap: {e}"))?;
        let commit = native::commit(&ck, &id, checked.epoch);
        checked
            .confirm(ck.expose().len(), &commit)
            .map_err(|r| r.code())?;
    }
    Ok(())
}

#[test]
fn step6_forged_key_sets_are_refused_for_the_stated_reason() {
    let all = vectors();
    for v in each(&all, "keys_signature_negative") {
        let case = text(v, "case");
        let conversation: Conversation = serde_json::from_value(v["conversation"].clone())
            .unwrap_or_else(|e| panic!("{case}: not a wire conversation: {e}"));
        assert_eq!(
            serde_json::to_value(&conversation).unwrap(),
            v["conversation"],
            "{case}: the wire shape round-trips"
        );
        let expected = v["refusal"].as_str().map(str::to_owned);
        assert_eq!(
            verdict(&conversation, &v["holder"]).err(),
            expected,
            "{case}"
        );
        // Whether the signature itself is genuine, apart from the other rules:
        // a rule that refuses a genuinely signed set is that rule's doing.
        let epoch = &conversation.epochs[0];
        let signer = epoch.members.iter().find(|m| m.id == epoch.signer_id);
        let genuine = keyset::statement(&conversation.id.to_string(), epoch, &GENESIS_PREV)
            .zip(signer.filter(|s| is_uncompressed_point(&s.sig_public)))
            .map(|(statement, signer)| {
                native::verify(&signer.sig_public, &statement, &epoch.keys_signature).is_ok()
            });
        assert_eq!(genuine, v["signature_genuine"].as_bool(), "{case}");
        if expected.as_deref() == Some("length:wrapped key") {
            // The unwrap itself refuses a content key that is not 32 bytes.
            let member = text(&v["holder"], "member_id");
            let dh = PrivateKey::from_pkcs8(&bytes(&v["holder"], "dh_private_pkcs8")).unwrap();
            let wrapped = epoch
                .keys
                .iter()
                .find(|k| k.member_id.to_string() == member)
                .unwrap();
            assert_eq!(
                native::unwrap_content_key(
                    &wrapped.wrapped_key,
                    &conversation.id.to_string(),
                    epoch.epoch,
                    member,
                    &dh
                )
                .unwrap_err(),
                CryptoError::Invalid { what: "key length" },
                "{case}"
            );
        }
    }
}

#[test]
fn step1_unsafe_prelogin_answers_are_refused() {
    let all = vectors();
    for v in each(&all, "kdf_params_negative") {
        let answer: KdfParams = serde_json::from_value(v["answer"].clone()).unwrap();
        assert_eq!(
            kdf_params_ok(answer.kdf_salt.len(), answer.kdf_iterations),
            v["accept"].as_bool().unwrap(),
            "{}",
            text(v, "comment")
        );
    }
}

/// Step 6's key tree: each leaf, the root and each leaf's path, byte for
/// byte, and each path proves its leaf.
#[test]
fn step6_key_trees_match_byte_for_byte() {
    let all = vectors();
    let trees = each(&all, "key_tree");
    assert!(trees.len() >= 9);
    for t in trees {
        let rows = t["leaves"].as_array().unwrap();
        let leaves: Vec<key_tree::Hash> = rows
            .iter()
            .map(|r| key_tree::leaf(text(r, "member_id"), &bytes(r, "wrapped_key")))
            .collect();
        for (leaf, r) in leaves.iter().zip(rows) {
            assert_eq!(leaf.to_vec(), bytes(r, "leaf"));
        }
        let tree = KeyTree::new(leaves.clone()).unwrap();
        let root = bytes(t, "root");
        assert_eq!(tree.root().to_vec(), root);
        assert_eq!(tree.size(), t["size"].as_u64().unwrap() as usize);
        for (m, r) in rows.iter().enumerate() {
            let path = bytes(r, "path");
            assert_eq!(tree.path(m).unwrap(), path, "size {}, leaf {m}", rows.len());
            assert!(key_tree::proves(&root, leaves[m], m, rows.len(), &path));
        }
    }
}

/// Steps 6-7 over a chain: each epoch's statement (with `prev` the head of
/// the one before, and its departures named), its head and signature, each
/// departure's signed text and signature, and each commit, byte for byte.
#[test]
fn step7_a_chain_of_epochs_with_a_departure_matches_byte_for_byte() {
    let all = vectors();
    let chains = all["keys_chain"].as_array().unwrap();
    assert!(!chains.is_empty());
    for chain in chains {
        let conversation = text(chain, "conversation_id");
        let mut prev = GENESIS_PREV.to_vec();
        let mut saw_departure = false;
        for (n, v) in chain["epochs"].as_array().unwrap().iter().enumerate() {
            assert_eq!(epoch(v) as usize, n);
            assert_eq!(bytes(v, "prev"), prev, "epoch {n} names the head before it");
            let ck = Key32::from_bytes(&bytes(v, "ck")).unwrap();
            assert_eq!(
                native::commit(&ck, conversation, epoch(v)).as_slice(),
                bytes(v, "commit")
            );
            let lines = member_lines(v);
            let departures = v["departures"].as_array().unwrap();
            let left: Vec<&str> = departures.iter().map(|d| text(d, "member_id")).collect();
            let statement = suite::statement(
                conversation,
                epoch(v),
                text(v, "signer_id"),
                &bytes(v, "commit"),
                &prev,
                &key_root(v),
                &lines,
                &left,
            );
            assert_eq!(
                String::from_utf8(statement.clone()).unwrap(),
                text(v, "statement")
            );
            let head = keyset::sha256(&statement);
            assert_eq!(head.as_slice(), bytes(v, "head"));
            native::verify(
                &bytes(v, "signer_sig_public"),
                &statement,
                &bytes(v, "signature"),
            )
            .unwrap();
            for d in departures {
                saw_departure = true;
                assert_eq!(d["epoch_left"].as_u64(), Some(u64::from(epoch(v) - 1)));
                assert_eq!(bytes(d, "head_left"), prev);
                let signed =
                    suite::departure(conversation, epoch(v) - 1, &prev, text(d, "member_id"));
                assert_eq!(
                    String::from_utf8(signed.clone()).unwrap(),
                    text(d, "signed")
                );
                native::verify(&bytes(d, "sig_public"), &signed, &bytes(d, "signature")).unwrap();
            }
            prev = head.to_vec();
        }
        assert!(saw_departure, "the chain carries a departure");
    }
}
