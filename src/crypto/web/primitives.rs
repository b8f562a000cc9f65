//! Thin async wrappers over `SubtleCrypto`: one function a primitive, bytes
//! in and bytes out, JavaScript failures turned into [`CryptoError`]. Every
//! length the suite fixes is checked here, since WebCrypto would accept a
//! 16-byte AES key or a 33-byte point without complaint.

use js_sys::{Array, ArrayBuffer, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::crypto::CryptoError;
use crate::model::encoding::b64;
use crate::model::suite::{KEY_LEN, NONCE_LEN, SIGNATURE_LEN, is_uncompressed_point};

fn subtle() -> Result<SubtleCrypto, CryptoError> {
    let crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or(CryptoError::Invalid {
            what: "browser (no WebCrypto)",
        })?;
    Ok(crypto.subtle())
}

/// A plain JavaScript object from key/value pairs.
fn object(pairs: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

fn usages(list: &[&str]) -> Array {
    list.iter().map(|u| JsValue::from_str(u)).collect()
}

fn bytes_of(value: JsValue) -> Vec<u8> {
    Uint8Array::new(&value.unchecked_into::<ArrayBuffer>()).to_vec()
}

fn js_bytes(bytes: &[u8]) -> Uint8Array {
    Uint8Array::from(bytes)
}

async fn run(
    promise: Result<Promise, JsValue>,
    failure: CryptoError,
) -> Result<JsValue, CryptoError> {
    let promise = promise.map_err(|_| failure.clone())?;
    JsFuture::from(promise).await.map_err(|_| failure)
}

fn check_len(bytes: &[u8], len: usize, what: &'static str) -> Result<(), CryptoError> {
    if bytes.len() == len {
        Ok(())
    } else {
        Err(CryptoError::Invalid { what })
    }
}

pub async fn sha256(data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let out = run(
        subtle()?.digest_with_str_and_u8_array("SHA-256", data),
        CryptoError::Invalid { what: "digest" },
    )
    .await?;
    Ok(bytes_of(out))
}

async fn import_raw(
    bytes: &[u8],
    algorithm: &Object,
    uses: &[&str],
) -> Result<CryptoKey, CryptoError> {
    let promise =
        subtle()?.import_key_with_object("raw", &js_bytes(bytes), algorithm, false, &usages(uses));
    Ok(run(promise, CryptoError::Invalid { what: "key" })
        .await?
        .unchecked_into())
}

pub async fn pbkdf2_sha256(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Result<Vec<u8>, CryptoError> {
    let base = import_raw(
        password,
        &object(&[("name", "PBKDF2".into())]),
        &["deriveBits"],
    )
    .await?;
    let params = object(&[
        ("name", "PBKDF2".into()),
        ("hash", "SHA-256".into()),
        ("salt", js_bytes(salt).into()),
        ("iterations", iterations.into()),
    ]);
    let bits = run(
        subtle()?.derive_bits_with_object(&params, &base, 256),
        CryptoError::Invalid { what: "PBKDF2" },
    )
    .await?;
    Ok(bytes_of(bits))
}

pub async fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &str) -> Result<Vec<u8>, CryptoError> {
    let base = import_raw(ikm, &object(&[("name", "HKDF".into())]), &["deriveBits"]).await?;
    let params = object(&[
        ("name", "HKDF".into()),
        ("hash", "SHA-256".into()),
        ("salt", js_bytes(salt).into()),
        ("info", js_bytes(info.as_bytes()).into()),
    ]);
    let bits = run(
        subtle()?.derive_bits_with_object(&params, &base, 256),
        CryptoError::Invalid { what: "HKDF" },
    )
    .await?;
    Ok(bytes_of(bits))
}

pub async fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let algorithm = object(&[("name", "HMAC".into()), ("hash", "SHA-256".into())]);
    let key = import_raw(key, &algorithm, &["sign"]).await?;
    let mac = run(
        subtle()?.sign_with_str_and_u8_array("HMAC", &key, data),
        CryptoError::Invalid { what: "HMAC" },
    )
    .await?;
    Ok(bytes_of(mac))
}

async fn aes_key(key: &[u8], uses: &[&str]) -> Result<CryptoKey, CryptoError> {
    check_len(key, KEY_LEN, "AES-256 key length")?;
    import_raw(key, &object(&[("name", "AES-GCM".into())]), uses).await
}

fn gcm(nonce: &[u8], aad: &[u8]) -> Result<Object, CryptoError> {
    check_len(nonce, NONCE_LEN, "nonce length")?;
    Ok(object(&[
        ("name", "AES-GCM".into()),
        ("iv", js_bytes(nonce).into()),
        ("additionalData", js_bytes(aad).into()),
        ("tagLength", 128.into()),
    ]))
}

pub async fn aes_gcm_encrypt(
    key: &[u8],
    nonce: &[u8],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    aes_gcm_encrypt_with(&aes_key(key, &["encrypt"]).await?, nonce, plaintext, aad).await
}

pub async fn aes_gcm_decrypt(
    key: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    aes_gcm_decrypt_with(&aes_key(key, &["decrypt"]).await?, nonce, ciphertext, aad).await
}

/// A 32-byte AES-GCM key held as a non-extractable `CryptoKey`, for
/// encrypting and decrypting: its bytes cannot be read back.
pub async fn import_aes_gcm(key: &[u8]) -> Result<CryptoKey, CryptoError> {
    aes_key(key, &["encrypt", "decrypt"]).await
}

/// AES-256-GCM with a held key.
pub async fn aes_gcm_encrypt_with(
    key: &CryptoKey,
    nonce: &[u8],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let out = run(
        subtle()?.encrypt_with_object_and_u8_array(&gcm(nonce, aad)?, key, plaintext),
        CryptoError::Invalid { what: "plaintext" },
    )
    .await?;
    Ok(bytes_of(out))
}

/// AES-256-GCM decryption with a held key.
pub async fn aes_gcm_decrypt_with(
    key: &CryptoKey,
    nonce: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let out = run(
        subtle()?.decrypt_with_object_and_u8_array(&gcm(nonce, aad)?, key, ciphertext),
        CryptoError::Decrypt,
    )
    .await?;
    Ok(bytes_of(out))
}

/// ECDH or ECDSA on P-256.
fn ec(name: &str) -> Object {
    object(&[("name", name.into()), ("namedCurve", "P-256".into())])
}

fn ec_name(sign: bool) -> &'static str {
    if sign { "ECDSA" } else { "ECDH" }
}

/// A raw public key (65 bytes, uncompressed, checked), for ECDH or ECDSA.
pub async fn import_public(raw: &[u8], sign: bool) -> Result<CryptoKey, CryptoError> {
    if !is_uncompressed_point(raw) {
        return Err(CryptoError::Invalid { what: "public key" });
    }
    let uses: &[&str] = if sign { &["verify"] } else { &[] };
    import_raw(raw, &ec(ec_name(sign)), uses).await
}

/// A private key from PKCS#8 DER.
pub async fn import_pkcs8(
    der: &[u8],
    sign: bool,
    extractable: bool,
) -> Result<CryptoKey, CryptoError> {
    let uses: &[&str] = if sign { &["sign"] } else { &["deriveBits"] };
    let promise = subtle()?.import_key_with_object(
        "pkcs8",
        &js_bytes(der),
        &ec(ec_name(sign)),
        extractable,
        &usages(uses),
    );
    Ok(run(
        promise,
        CryptoError::Invalid {
            what: "PKCS#8 private key",
        },
    )
    .await?
    .unchecked_into())
}

/// A private key from its scalar and raw public key (as a JWK).
pub async fn import_scalar(
    scalar: &[u8],
    public: &[u8],
    sign: bool,
) -> Result<CryptoKey, CryptoError> {
    check_len(scalar, 32, "private scalar")?;
    if !is_uncompressed_point(public) {
        return Err(CryptoError::Invalid { what: "public key" });
    }
    let jwk = object(&[
        ("kty", "EC".into()),
        ("crv", "P-256".into()),
        ("d", b64(scalar).into()),
        ("x", b64(&public[1..33]).into()),
        ("y", b64(&public[33..]).into()),
    ]);
    let uses: &[&str] = if sign { &["sign"] } else { &["deriveBits"] };
    let promise =
        subtle()?.import_key_with_object("jwk", &jwk, &ec(ec_name(sign)), false, &usages(uses));
    Ok(run(
        promise,
        CryptoError::Invalid {
            what: "private key",
        },
    )
    .await?
    .unchecked_into())
}

/// `z`: the 32-byte ECDH shared secret with a raw public key.
pub async fn ecdh(private: &CryptoKey, public_raw: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let public = import_public(public_raw, false).await?;
    let params = object(&[("name", "ECDH".into()), ("public", public.into())]);
    let bits = run(
        subtle()?.derive_bits_with_object(&params, private, 256),
        CryptoError::Invalid { what: "ECDH" },
    )
    .await?;
    Ok(bytes_of(bits))
}

fn ecdsa() -> Object {
    object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())])
}

/// ECDSA P-256 / SHA-256, `r || s`.
pub async fn sign(private: &CryptoKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let out = run(
        subtle()?.sign_with_object_and_u8_array(&ecdsa(), private, data),
        CryptoError::Invalid {
            what: "signing key",
        },
    )
    .await?;
    Ok(bytes_of(out))
}

/// Verifies an `r || s` signature under a raw public key.
pub async fn verify(public_raw: &[u8], signature: &[u8], data: &[u8]) -> Result<(), CryptoError> {
    if signature.len() != SIGNATURE_LEN {
        return Err(CryptoError::BadSignature);
    }
    let public = import_public(public_raw, true).await?;
    verify_with(&public, signature, data).await
}

/// [`verify`] with a public key imported already (by [`import_public`]).
pub async fn verify_with(
    public: &CryptoKey,
    signature: &[u8],
    data: &[u8],
) -> Result<(), CryptoError> {
    if signature.len() != SIGNATURE_LEN {
        return Err(CryptoError::BadSignature);
    }
    let ok = run(
        subtle()?.verify_with_object_and_u8_array_and_u8_array(&ecdsa(), public, signature, data),
        CryptoError::BadSignature,
    )
    .await?;
    if ok.as_bool() == Some(true) {
        Ok(())
    } else {
        Err(CryptoError::BadSignature)
    }
}

/// `N` random bytes from the browser's CSPRNG.
pub fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .ok_or(CryptoError::Invalid {
            what: "browser (no random source)",
        })?;
    Ok(bytes)
}

/// A fresh P-256 key pair, extractable so that it can be wrapped once:
/// returns the private key's PKCS#8 and the raw public key.
pub async fn generate_pair(sign: bool) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let uses: &[&str] = if sign {
        &["sign", "verify"]
    } else {
        &["deriveBits"]
    };
    let pair = run(
        subtle()?.generate_key_with_object(&ec(ec_name(sign)), true, &usages(uses)),
        CryptoError::Invalid {
            what: "key generation",
        },
    )
    .await?;
    let part = |name: &str| -> Result<CryptoKey, CryptoError> {
        Reflect::get(&pair, &JsValue::from_str(name))
            .map(JsCast::unchecked_into)
            .map_err(|_| CryptoError::Invalid { what: "key pair" })
    };
    let export = |format: &'static str, key: CryptoKey| async move {
        run(
            subtle()?.export_key(format, &key),
            CryptoError::Invalid { what: "key export" },
        )
        .await
        .map(bytes_of)
    };
    let pkcs8 = export("pkcs8", part("privateKey")?).await?;
    let public = export("raw", part("publicKey")?).await?;
    Ok((pkcs8, public))
}

/// The raw public key (`0x04 || x || y`) of a PKCS#8 private key, read
/// through a temporary extractable import.
pub async fn public_of_pkcs8(der: &[u8], sign: bool) -> Result<Vec<u8>, CryptoError> {
    let key = import_pkcs8(der, sign, true).await?;
    let jwk = run(
        subtle()?.export_key("jwk", &key),
        CryptoError::Invalid { what: "key export" },
    )
    .await?;
    let coordinate = |name: &str| {
        Reflect::get(&jwk, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
            .and_then(|text| crate::model::encoding::unb64(&text))
            .filter(|bytes| bytes.len() == 32)
            .ok_or(CryptoError::Invalid {
                what: "private key",
            })
    };
    Ok([&[0x04][..], &coordinate("x")?, &coordinate("y")?].concat())
}
