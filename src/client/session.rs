//! Signing up, logging in and out, in the browser. The password is used here
//! and nowhere else: it becomes `mk` (PBKDF2), then `auth_key` (the only thing
//! sent), `kek` (which wraps the identity keys) and `cbk` (which seals the
//! contact book kept on the server). Every step follows suite
//! `hush-v1` through `crypto::web`.

use super::keystore::{self, LocalIdentity};
use crate::api::accounts;
use crate::crypto::CryptoError;
use crate::crypto::suite::KeyKind;
use crate::crypto::web::{self, primitives as p};
use crate::model::account::{Identity, Signup};
use crate::model::blob::Blob;
use crate::model::error::ApiError;
use crate::model::suite::{KDF_ITERATIONS, KDF_SALT_LEN, NONCE_LEN};
use crate::model::username;

/// Why a flow failed, in words for the form.
pub type Failure = String;

fn crypto(e: CryptoError) -> Failure {
    format!("Your browser could not complete the encryption step ({e}).")
}

fn api(e: ApiError) -> Failure {
    e.message
}

fn storage(_: wasm_bindgen::JsValue) -> Failure {
    "This browser would not store your keys (is private browsing blocking storage?).".into()
}

/// Keeps the private keys as non-extractable keys, with their public halves.
async fn keep(
    user_id: String,
    username: String,
    dh: (&[u8], Vec<u8>),
    sig: (&[u8], Vec<u8>),
    cbk: web_sys::CryptoKey,
) -> Result<LocalIdentity, Failure> {
    let identity = LocalIdentity {
        user_id,
        username,
        cbk,
        dh_private: p::import_pkcs8(dh.0, false, false).await.map_err(crypto)?,
        sig_private: p::import_pkcs8(sig.0, true, false).await.map_err(crypto)?,
        dh_public: dh.1,
        sig_public: sig.1,
    };
    keystore::save(&identity).await.map_err(storage)?;
    Ok(identity)
}

/// Creates an account: derive, generate, wrap, sign up, keep.
pub async fn sign_up(typed: &str, password: &str) -> Result<LocalIdentity, Failure> {
    let name = username::canonical(typed).map_err(|e| e.to_string())?;
    let iterations = *KDF_ITERATIONS.start();
    let kdf_salt = p::random::<KDF_SALT_LEN>().map_err(crypto)?;
    let mk = web::master_key(&name, password, &kdf_salt, iterations)
        .await
        .map_err(crypto)?;
    let keys = web::password_keys(&mk).await.map_err(crypto)?;
    let (dh_pkcs8, dh_public) = p::generate_pair(false).await.map_err(crypto)?;
    let (sig_pkcs8, sig_public) = p::generate_pair(true).await.map_err(crypto)?;
    let wrap = |kind, pkcs8| {
        let kek = &keys.kek;
        let name = &name;
        async move {
            let nonce = p::random::<NONCE_LEN>().map_err(crypto)?;
            web::wrap_identity(kek, name, kind, pkcs8, &nonce)
                .await
                .map(Blob::from)
                .map_err(crypto)
        }
    };
    let identity = Identity {
        dh_public: dh_public.as_slice().into(),
        sig_public: sig_public.as_slice().into(),
        dh_private_wrapped: wrap(KeyKind::Dh, &dh_pkcs8).await?,
        sig_private_wrapped: wrap(KeyKind::Sig, &sig_pkcs8).await?,
    };
    let session = accounts::signup(Signup {
        username: name.clone(),
        auth_key: keys.auth_key.as_slice().into(),
        kdf_salt: kdf_salt.into(),
        kdf_iterations: iterations,
        identity,
    })
    .await
    .map_err(api)?;
    keep(
        session.user.id.to_string(),
        session.user.username,
        (&dh_pkcs8, dh_public),
        (&sig_pkcs8, sig_public),
        keys.cbk,
    )
    .await
}

/// Logs in: prelogin, derive, login, unwrap and check the identity, keep.
pub async fn log_in(typed: &str, password: &str) -> Result<LocalIdentity, Failure> {
    let name = username::canonical(typed).map_err(|e| e.to_string())?;
    let params = accounts::prelogin(name.clone()).await.map_err(api)?;
    let kdf_salt = &params.kdf_salt;
    if !crate::model::suite::kdf_params_ok(kdf_salt.len(), params.kdf_iterations) {
        return Err("The server asked for unsafe key settings, so nothing was sent.".into());
    }
    let mk = web::master_key(&name, password, kdf_salt, params.kdf_iterations)
        .await
        .map_err(crypto)?;
    let keys = web::password_keys(&mk).await.map_err(crypto)?;
    let answer = accounts::login(name.clone(), keys.auth_key.as_slice().into())
        .await
        .map_err(api)?;
    let tampered =
        || Failure::from("Your keys from the server do not match your account. Nothing was kept.");
    if answer.user.username != name {
        return Err(tampered());
    }
    let mut unwrapped = Vec::new();
    for (kind, wrapped, public) in [
        (
            KeyKind::Dh,
            &answer.identity.dh_private_wrapped,
            &answer.identity.dh_public,
        ),
        (
            KeyKind::Sig,
            &answer.identity.sig_private_wrapped,
            &answer.identity.sig_public,
        ),
    ] {
        let pkcs8 = web::unwrap_identity(&keys.kek, &name, kind, wrapped)
            .await
            .map_err(|_| tampered())?;
        if p::public_of_pkcs8(&pkcs8, kind == KeyKind::Sig)
            .await
            .map_err(crypto)?
            != public[..]
        {
            return Err(tampered());
        }
        unwrapped.push((pkcs8, public.to_vec()));
    }
    let (sig, dh) = (
        unwrapped.pop().ok_or_else(tampered)?,
        unwrapped.pop().ok_or_else(tampered)?,
    );
    keep(
        answer.user.id.to_string(),
        answer.user.username,
        (&dh.0, dh.1),
        (&sig.0, sig.1),
        keys.cbk,
    )
    .await
}

/// Ends the session on the server and forgets the keys here.
pub async fn log_out() -> Result<(), Failure> {
    // An already-ended session is fine; the keys go either way.
    let _ = accounts::logout().await;
    keystore::clear().await.map_err(storage)
}

/// A short, stable fingerprint of an identity's public keys, for people to
/// compare ("safety number").
pub async fn fingerprint(identity: &LocalIdentity) -> Result<String, Failure> {
    let digest = p::sha256(&[identity.dh_public.as_slice(), &identity.sig_public].concat())
        .await
        .map_err(crypto)?;
    let digits: Vec<String> = digest[..10]
        .chunks(2)
        .map(|pair| format!("{:05}", u16::from_be_bytes([pair[0], pair[1]])))
        .collect();
    Ok(digits.join(" "))
}
