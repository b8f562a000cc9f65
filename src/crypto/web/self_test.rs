//! The browser's check of its own crypto against the committed vectors
//! (`tests/vectors/hush-v1.json`, made by an independent implementation).
//! Exported to JavaScript as `hush_v1_self_test(json)` in debug builds: the
//! end-to-end tests call it in Chromium, and anyone running a debug build
//! can call it from the console to see that the app's WebCrypto code
//! computes exactly what the suite specifies. Release builds leave it out:
//! every user would download it and none would run it.

use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::primitives as p;
use crate::crypto::CryptoError;
use crate::crypto::key_tree::{self, KeyTree};
use crate::crypto::keyset;
use crate::crypto::pins::{Book, Shared, Sight};
use crate::crypto::safety::{self, SafetyNumber};
use crate::crypto::suite::{self, GENESIS_PREV, KeyKind, MemberKeys};
use crate::model::account::{KdfParams, PublicUser};
use crate::model::conversation::{Conversation, WrappedKey};
use crate::model::encoding::{b64, unb64};
use crate::model::ids::UserId;
use crate::model::plain;
use crate::model::suite::{is_uncompressed_point, kdf_params_ok};

/// One failed check, named.
fn fail(what: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&format!("hush-v1 self test failed: {what}"))
}

fn bytes(v: &Value, field: &str) -> Result<Vec<u8>, JsValue> {
    v[field]
        .as_str()
        .and_then(unb64)
        .ok_or_else(|| fail(format!("field {field} is missing or not base64url")))
}

fn text<'a>(v: &'a Value, field: &str) -> Result<&'a str, JsValue> {
    v[field]
        .as_str()
        .ok_or_else(|| fail(format!("field {field} is missing")))
}

fn num(v: &Value, field: &str) -> Result<u32, JsValue> {
    v[field]
        .as_u64()
        .map(|n| n as u32)
        .ok_or_else(|| fail(format!("field {field} is missing")))
}

fn each<'a>(all: &'a Value, group: &str) -> Result<&'a [Value], JsValue> {
    all[group]
        .as_array()
        .map(Vec::as_slice)
        .filter(|list| !list.is_empty())
        .ok_or_else(|| fail(format!("group {group} is missing")))
}

fn same(label: &str, ours: &[u8], theirs: &[u8]) -> Result<(), JsValue> {
    if ours == theirs {
        Ok(())
    } else {
        Err(fail(label))
    }
}

fn ok<T>(label: &str, r: Result<T, CryptoError>) -> Result<T, JsValue> {
    r.map_err(|e| fail(format!("{label}: {e}")))
}

fn kind(v: &Value) -> Result<KeyKind, JsValue> {
    match text(v, "which")? {
        "dh" => Ok(KeyKind::Dh),
        "sig" => Ok(KeyKind::Sig),
        other => Err(fail(format!("unknown key kind {other}"))),
    }
}

/// Runs every vector through the WebCrypto implementation; resolves to the
/// number of checks passed, or rejects naming the first failure. Checks per
/// entry: `password_to_keys` 3, `identity_wrap` 3, `content_key_wrap` 2,
/// `keys_signature` 5, `message_seal` 4, `padding` 1 each, `signature_verify` 1,
/// `aead_negative` 1, `contact_book` 4, `safety_number` 3,
/// `keys_signature_negative` 2, `kdf_params_negative` 1.
#[wasm_bindgen]
pub async fn hush_v1_self_test(vectors: String) -> Result<u32, JsValue> {
    let all: Value = serde_json::from_str(&vectors).map_err(fail)?;
    let mut checks = 0u32;

    for v in each(&all, "password_to_keys")? {
        let username = text(v, "username")?;
        let mk = ok(
            "mk",
            super::master_key(
                username,
                text(v, "password")?,
                &bytes(v, "kdf_salt")?,
                num(v, "kdf_iterations")?,
            )
            .await,
        )?;
        same(&format!("mk of {username}"), &mk, &bytes(v, "mk")?)?;
        let keys = ok("keys", super::password_keys(&mk).await)?;
        same("auth_key", &keys.auth_key, &bytes(v, "auth_key")?)?;
        same("kek", &keys.kek, &bytes(v, "kek")?)?;
        checks += 3;
    }

    for v in each(&all, "identity_wrap")? {
        let (username, kind) = (text(v, "username")?, kind(v)?);
        let kek = bytes(v, "kek")?;
        let wrapped = ok(
            "wrap identity",
            super::wrap_identity(
                &kek,
                username,
                kind,
                &bytes(v, "pkcs8")?,
                &bytes(v, "nonce")?,
            )
            .await,
        )?;
        same("wrapped identity", &wrapped, &bytes(v, "wrapped")?)?;
        let pkcs8 = ok(
            "unwrap identity",
            super::unwrap_identity(&kek, username, kind, &wrapped).await,
        )?;
        same("unwrapped identity", &pkcs8, &bytes(v, "pkcs8")?)?;
        ok(
            "import unwrapped identity",
            p::import_pkcs8(&pkcs8, kind == KeyKind::Sig, false).await,
        )?;
        checks += 3;
    }

    for v in each(&all, "content_key_wrap")? {
        let (conversation, member, epoch) = (
            text(v, "conversation_id")?,
            text(v, "member_id")?,
            num(v, "epoch")?,
        );
        let ephemeral_public = bytes(v, "ephemeral_public")?;
        let ephemeral = ok(
            "ephemeral key",
            p::import_scalar(
                &bytes(v, "ephemeral_private_scalar")?,
                &ephemeral_public,
                false,
            )
            .await,
        )?;
        let member_public = bytes(v, "member_dh_public")?;
        let ck = bytes(v, "ck")?;
        let wrapped = ok(
            "wrap content key",
            super::wrap_content_key(
                &ck,
                conversation,
                epoch,
                member,
                &member_public,
                &ephemeral,
                &ephemeral_public,
                &bytes(v, "nonce")?,
            )
            .await,
        )?;
        same("wrapped content key", &wrapped, &bytes(v, "wrapped_key")?)?;
        let member_dh = ok(
            "member key",
            p::import_pkcs8(&bytes(v, "member_dh_private_pkcs8")?, false, false).await,
        )?;
        let unwrapped = ok(
            "unwrap content key",
            super::unwrap_content_key(
                &wrapped,
                conversation,
                epoch,
                member,
                &member_dh,
                &member_public,
            )
            .await,
        )?;
        same("unwrapped content key", &unwrapped, &ck)?;
        checks += 2;
    }

    for t in each(&all, "key_tree")? {
        let rows = t["leaves"]
            .as_array()
            .ok_or_else(|| fail("key tree leaves"))?;
        let mut leaves = Vec::new();
        for r in rows {
            let leaf = key_tree::leaf(text(r, "member_id")?, &bytes(r, "wrapped_key")?);
            same("key tree leaf", &leaf, &bytes(r, "leaf")?)?;
            leaves.push(leaf);
        }
        let tree = KeyTree::new(leaves.clone()).ok_or_else(|| fail("key tree"))?;
        let root = bytes(t, "root")?;
        same("key tree root", &tree.root(), &root)?;
        for (m, r) in rows.iter().enumerate() {
            let path = bytes(r, "path")?;
            same("key tree path", &tree.path(m).unwrap_or_default(), &path)?;
            if !key_tree::proves(&root, leaves[m], m, rows.len(), &path) {
                return Err(fail("a key tree path does not prove its leaf"));
            }
        }
    }

    for v in each(&all["padding"], "lengths")? {
        let json = bytes(v, "json")?;
        let padded = plain::pad(&json);
        same("padded", &padded, &bytes(v, "padded")?)?;
        same("unpadded", plain::unpad(&padded).unwrap_or_default(), &json)?;
        checks += 1;
    }
    for v in each(&all["padding"], "refused")? {
        if plain::unpad(&bytes(v, "padded")?).is_some() {
            return Err(fail(format!("padding read: {}", text(v, "comment")?)));
        }
        checks += 1;
    }

    for v in each(&all, "keys_signature")? {
        let (conversation, signer, epoch) = (
            text(v, "conversation_id")?,
            text(v, "signer_id")?,
            num(v, "epoch")?,
        );
        let commit = ok(
            "commit",
            super::commit(&bytes(v, "ck")?, conversation, epoch).await,
        )?;
        same("commit", &commit, &bytes(v, "commit")?)?;
        let mut lines = Vec::new();
        let mut keys = Vec::new();
        for m in v["members"].as_array().ok_or_else(|| fail("members"))? {
            lines.push(MemberKeys {
                member_id: text(m, "member_id")?.to_owned(),
                username: text(m, "username")?.to_owned(),
                dh_public: bytes(m, "dh_public")?,
                sig_public: bytes(m, "sig_public")?,
            });
            keys.push(WrappedKey {
                member_id: text(m, "member_id")?
                    .parse()
                    .map_err(|_| fail("member_id"))?,
                wrapped_key: bytes(m, "wrapped_key")?.into(),
                path: Default::default(),
            });
        }
        let (tree, _) = KeyTree::of_keys(&keys).ok_or_else(|| fail("key tree"))?;
        same("key root", &tree.root(), &bytes(v, "key_root")?)?;
        let message = suite::statement(
            conversation,
            epoch,
            signer,
            &commit,
            &bytes(v, "prev")?,
            &tree.root(),
            &lines,
            &[],
        );
        same("statement", &message, text(v, "statement")?.as_bytes())?;
        let head = ok("head", p::sha256(&message).await)?;
        same("head", &head, &bytes(v, "head")?)?;
        ok(
            "keys signature",
            p::verify(
                &bytes(v, "signer_sig_public")?,
                &bytes(v, "signature")?,
                &message,
            )
            .await,
        )?;
        let signer_key = ok(
            "signer key",
            p::import_pkcs8(&bytes(v, "signer_sig_pkcs8")?, true, false).await,
        )?;
        let ours = ok("sign keys", p::sign(&signer_key, &message).await)?;
        ok(
            "our keys signature",
            p::verify(&bytes(v, "signer_sig_public")?, &ours, &message).await,
        )?;
        checks += 5;
    }

    for v in each(&all, "message_seal")? {
        let aad = suite::message_aad(
            text(v, "conversation_id")?,
            num(v, "epoch")?,
            &bytes(v, "head")?,
            text(v, "message_id")?,
            text(v, "sender_id")?,
        );
        same("message aad", aad.as_bytes(), text(v, "aad")?.as_bytes())?;
        let (ck, nonce) = (bytes(v, "ck")?, bytes(v, "nonce")?);
        // Held as the app holds it: a non-extractable CryptoKey.
        let ck = ok("content key import", p::import_aes_gcm(&ck).await)?;
        let padded = plain::pad(text(v, "plaintext")?.as_bytes());
        same("padded", &padded, &bytes(v, "padded")?)?;
        let ciphertext = ok(
            "seal",
            super::seal_message(&ck, &aad, &nonce, &padded).await,
        )?;
        same("ciphertext", &ciphertext, &bytes(v, "ciphertext")?)?;
        let opened = ok(
            "open",
            super::open_message(&ck, &aad, &nonce, &ciphertext).await,
        )?;
        let plaintext =
            plain::unpad(&opened).ok_or_else(|| fail("the opened message is not padded"))?;
        same("plaintext", plaintext, text(v, "plaintext")?.as_bytes())?;
        let signed = suite::message_signed_bytes(&aad, &nonce, &ciphertext);
        ok(
            "message signature",
            p::verify(
                &bytes(v, "sender_sig_public")?,
                &bytes(v, "signature")?,
                &signed,
            )
            .await,
        )?;
        checks += 4;
    }

    for v in each(&all, "signature_verify")? {
        let outcome = p::verify(
            &bytes(v, "public")?,
            &bytes(v, "signature")?,
            &bytes(v, "message")?,
        )
        .await;
        if outcome.is_ok() != v["valid"].as_bool().unwrap_or(false) {
            return Err(fail(format!("signature case: {}", text(v, "comment")?)));
        }
        checks += 1;
    }

    for v in each(&all, "aead_negative")? {
        let outcome = p::aes_gcm_decrypt(
            &bytes(v, "key")?,
            &bytes(v, "nonce")?,
            &bytes(v, "ciphertext")?,
            text(v, "aad")?.as_bytes(),
        )
        .await;
        if outcome != Err(CryptoError::Decrypt) {
            return Err(fail(format!(
                "AEAD case must fail: {}",
                text(v, "comment")?
            )));
        }
        checks += 1;
    }

    let mut before: Option<(String, u64, Vec<u8>)> = None;
    for v in each(&all, "contact_book")? {
        checks += contact_book(&all, v, &mut before).await?;
    }
    for v in each(&all, "safety_number")? {
        checks += safety_number(v)?;
    }
    for v in each(&all, "keys_signature_negative")? {
        checks += forged_key_set(v).await?;
    }
    for v in each(&all, "kdf_params_negative")? {
        let answer: KdfParams = serde_json::from_value(v["answer"].clone()).map_err(fail)?;
        let accept = v["accept"].as_bool().ok_or_else(|| fail("field accept"))?;
        if kdf_params_ok(answer.kdf_salt.len(), answer.kdf_iterations) != accept {
            return Err(fail(format!("prelogin answer: {}", text(v, "comment")?)));
        }
        checks += 1;
    }
    Ok(checks)
}

/// Step 8: `cbk` as login holds it (non-extractable), the sealed book byte
/// for byte, its plaintext as the app's book writes it, and its version
/// bound by the aad. `before` is the entry before, whose sealed copy `prev`
/// may name.
async fn contact_book(
    all: &Value,
    v: &Value,
    before: &mut Option<(String, u64, Vec<u8>)>,
) -> Result<u32, JsValue> {
    let (username, user_id) = (text(v, "username")?, text(v, "user_id")?);
    let version = v["version"].as_u64().ok_or_else(|| fail("field version"))?;
    let mk = bytes(v, "mk")?;
    let from_step_1 = each(all, "password_to_keys")?
        .iter()
        .find(|p| p["username"] == username)
        .ok_or_else(|| fail(format!("no password_to_keys for {username}")))?;
    same("contact book mk", &mk, &bytes(from_step_1, "mk")?)?;
    let keys = ok("keys", super::password_keys(&mk).await)?;
    let plaintext = text(v, "plaintext")?.as_bytes();
    let sealed = ok(
        "seal book",
        super::seal_book(&keys.cbk, user_id, version, &bytes(v, "nonce")?, plaintext).await,
    )?;
    same("sealed book", &sealed, &bytes(v, "sealed")?)?;
    let opened = ok(
        "open book",
        super::open_book(&keys.cbk, user_id, version, &bytes(v, "sealed")?).await,
    )?;
    same("opened book", &opened, plaintext)?;

    // The plaintext is pins::Shared, and what the app's book writes.
    let shared: Shared = serde_json::from_slice(&opened).map_err(fail)?;
    same(
        "book plaintext",
        &serde_json::to_vec(&shared).map_err(fail)?,
        plaintext,
    )?;
    let me = PublicUser {
        id: user_id.parse().map_err(fail)?,
        username: username.to_owned(),
        dh_public: Default::default(),
        sig_public: Default::default(),
    };
    let mut book = Book::default();
    for contact in &shared.contacts {
        if book.sight(&me, &contact.user) != Sight::New
            || !book.set_verified(contact.user.id, contact.verified)
        {
            return Err(fail("book: a contact is not new"));
        }
    }
    let written = serde_json::to_vec(&book.shared(shared.prev.clone())).map_err(fail)?;
    same("book as the app writes it", &written, plaintext)?;
    let prev = match before.take() {
        Some((who, at, sealed)) if who == user_id && at + 1 == version => {
            b64(&ok("hash", p::sha256(&sealed).await)?)
        }
        _ => String::new(),
    };
    same("book prev", shared.prev.as_bytes(), prev.as_bytes())?;

    for other in [version.saturating_sub(1), version + 1] {
        let outcome = super::open_book(&keys.cbk, user_id, other, &sealed).await;
        if outcome != Err(CryptoError::Decrypt) {
            return Err(fail(format!("book opened as version {other}")));
        }
    }
    *before = Some((user_id.to_owned(), version, sealed));
    Ok(4)
}

/// Step 9: each party's hash and digits, the number and its QR payload in
/// either order, and, for app users, from their public keys and ids.
fn safety_number(v: &Value) -> Result<u32, JsValue> {
    let parties = v["parties"]
        .as_array()
        .filter(|p| p.len() == 2)
        .ok_or_else(|| fail("field parties"))?;
    let mut hashes = Vec::new();
    for party in parties {
        let hash = safety::party_hash(&bytes(party, "key")?, &bytes(party, "id")?);
        same("party hash", &hash, &bytes(party, "hash")?)?;
        same(
            "party digits",
            safety::party_digits(&hash).as_bytes(),
            text(party, "digits")?.as_bytes(),
        )?;
        hashes.push(hash);
    }
    let mut numbers = vec![
        SafetyNumber::from_hashes(hashes[0], hashes[1]),
        SafetyNumber::from_hashes(hashes[1], hashes[0]),
    ];
    if let Some(users) = v["users"].as_array() {
        let users: Vec<PublicUser> = users
            .iter()
            .map(|u| serde_json::from_value(u.clone()))
            .collect::<Result<_, _>>()
            .map_err(fail)?;
        for (user, party) in users.iter().zip(parties) {
            let key = [&user.sig_public[..], &user.dh_public[..]].concat();
            same("fingerprint key", &key, &bytes(party, "key")?)?;
            same("fingerprint id", user.id.as_bytes(), &bytes(party, "id")?)?;
        }
        let [a, b] = users.as_slice() else {
            return Err(fail("field users"));
        };
        numbers.extend([SafetyNumber::of(a, b), SafetyNumber::of(b, a)]);
    }
    for number in numbers {
        same(
            "safety number",
            number.digits.as_bytes(),
            text(v, "digits")?.as_bytes(),
        )?;
        same("safety number QR", &number.qr, &bytes(v, "qr")?)?;
    }
    Ok(3)
}

/// Steps 6-7: what the vector's `holder` makes of a whole conversation, as
/// the app does it: the chain's rules, every signature by WebCrypto, then
/// its own key unwrapped and confirmed. `None` if accepted.
async fn verdict(conversation: &Conversation, holder: &Value) -> Result<Option<String>, JsValue> {
    let chain = match keyset::check_chain(conversation) {
        Ok(chain) => chain,
        Err(refusal) => return Ok(Some(refusal.code())),
    };
    for checked in &chain {
        for proof in checked.proofs() {
            if p::verify(proof.key, proof.signature, proof.message)
                .await
                .is_err()
            {
                return Ok(Some(proof.refusal.code()));
            }
        }
    }
    let member: UserId = text(holder, "member_id")?.parse().map_err(fail)?;
    let pkcs8 = bytes(holder, "dh_private_pkcs8")?;
    let dh = ok("holder key", p::import_pkcs8(&pkcs8, false, false).await)?;
    let dh_public = ok("holder public key", p::public_of_pkcs8(&pkcs8, false).await)?;
    let id = conversation.id.to_string();
    for checked in &chain {
        let Some(wrapped) = checked.key_for(member) else {
            continue;
        };
        let unwrapped = super::unwrap_content_key(
            wrapped,
            &id,
            checked.epoch,
            &member.to_string(),
            &dh,
            &dh_public,
        )
        .await;
        let ck = match unwrapped {
            Ok(ck) => ck,
            Err(e) => return Ok(Some(format!("unwrap: {e}"))),
        };
        let commit = ok("commit", super::commit(&ck, &id, checked.epoch).await)?;
        if let Err(refusal) = checked.confirm(ck.len(), &commit) {
            return Ok(Some(refusal.code()));
        }
    }
    Ok(None)
}

/// Steps 6-7 refused: the stated refusal, and whether the signature itself
/// is genuine (so a rule that refuses a genuinely signed set is that
/// rule's doing).
async fn forged_key_set(v: &Value) -> Result<u32, JsValue> {
    let case = text(v, "case")?;
    let conversation: Conversation =
        serde_json::from_value(v["conversation"].clone()).map_err(fail)?;
    let found = verdict(&conversation, &v["holder"]).await?;
    if found.as_deref() != v["refusal"].as_str() {
        return Err(fail(format!("key set \"{case}\": refused as {found:?}")));
    }
    let epoch = conversation
        .epochs
        .first()
        .ok_or_else(|| fail("no epoch"))?;
    let signer = epoch
        .members
        .iter()
        .find(|m| m.id == epoch.signer_id && is_uncompressed_point(&m.sig_public));
    let statement = keyset::statement(&conversation.id.to_string(), epoch, &GENESIS_PREV);
    let genuine = match statement.zip(signer) {
        Some((statement, signer)) => Some(
            p::verify(&signer.sig_public, &epoch.keys_signature, &statement)
                .await
                .is_ok(),
        ),
        None => None,
    };
    if genuine != v["signature_genuine"].as_bool() {
        return Err(fail(format!(
            "key set \"{case}\": signature genuine {genuine:?}"
        )));
    }
    if found.as_deref() == Some("length:wrapped key") {
        // The unwrap itself refuses a content key that is not 32 bytes.
        let holder = &v["holder"];
        let member: UserId = text(holder, "member_id")?.parse().map_err(fail)?;
        let pkcs8 = bytes(holder, "dh_private_pkcs8")?;
        let dh = ok("holder key", p::import_pkcs8(&pkcs8, false, false).await)?;
        let dh_public = ok("holder public key", p::public_of_pkcs8(&pkcs8, false).await)?;
        let wrapped = epoch
            .keys
            .iter()
            .find(|k| k.member_id == member)
            .ok_or_else(|| fail("no key for the holder"))?;
        let unwrapped = super::unwrap_content_key(
            &wrapped.wrapped_key,
            &conversation.id.to_string(),
            epoch.epoch,
            &member.to_string(),
            &dh,
            &dh_public,
        )
        .await;
        if unwrapped.err()
            != Some(CryptoError::Invalid {
                what: "content key length",
            })
        {
            return Err(fail(format!("key set \"{case}\": a short key unwrapped")));
        }
    }
    Ok(2)
}
