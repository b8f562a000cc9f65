//! The browser's check of its own crypto against the committed vectors
//! (`tests/vectors/hush-v1.json`, made by an independent implementation).
//! Exported to JavaScript as `hush_v1_self_test(json)`: the end-to-end tests
//! call it in Chromium, and anyone can run it from the console to see that
//! the app's WebCrypto code computes exactly what the suite specifies.

use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::primitives as p;
use crate::crypto::CryptoError;
use crate::crypto::suite::{self, KeyKind, MemberKeys};
use crate::model::encoding::unb64;

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
/// number of checks passed, or rejects naming the first failure.
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
        for m in v["members"].as_array().ok_or_else(|| fail("members"))? {
            let hash = ok("hash", p::sha256(&bytes(m, "wrapped_key")?).await)?;
            lines.push(MemberKeys {
                member_id: text(m, "member_id")?.to_owned(),
                username: text(m, "username")?.to_owned(),
                dh_public: bytes(m, "dh_public")?,
                sig_public: bytes(m, "sig_public")?,
                wrapped_key_sha256: hash,
            });
        }
        let message = suite::statement(
            conversation,
            epoch,
            signer,
            &commit,
            &bytes(v, "prev")?,
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
        let ciphertext = ok(
            "seal",
            super::seal_message(&ck, &aad, &nonce, text(v, "plaintext")?.as_bytes()).await,
        )?;
        same("ciphertext", &ciphertext, &bytes(v, "ciphertext")?)?;
        let plaintext = ok(
            "open",
            super::open_message(&ck, &aad, &nonce, &ciphertext).await,
        )?;
        same("plaintext", &plaintext, text(v, "plaintext")?.as_bytes())?;
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
        checks += 3;
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
    Ok(checks)
}
