//! Session tokens: JWT with HS256 only, typed `hush-session+jwt` in the
//! header (so no other token signed with the same key passes for one).
//! `iss`, `aud`, `exp`, `nbf` and `sub` are required and checked with no
//! leeway; `ver` is the user's token version, which logout bumps, so an
//! older token stops working at once.
//!
//! `jsonwebtoken` parses and validates; its signatures come from [`HS256`],
//! a crypto backend of our own on `hmac` and `sha2`. The crate's own
//! `rust_crypto` backend would link every JWT algorithm, and through P-384's
//! ECDH the `hkdf` crate, into a server that needs neither
//! (`scripts/check-blind`).

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result as JwtResult};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::model::ids::UserId;

/// The issuer and audience of every Hush token.
pub const ISSUER: &str = "hush";
pub const AUDIENCE: &str = "hush";
/// How long before its issue a token is valid: nodes of one deployment
/// whose clocks differ by less than this accept each other's new tokens.
const CLOCK_SLACK_SECS: u64 = 30;
/// The header's `typ` of a session token.
pub const TYPE: &str = "hush-session+jwt";

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user.
    pub sub: UserId,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Not valid before, seconds since the epoch (a little before it was
    /// issued, for clocks that differ between nodes).
    pub nbf: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
    /// The user's token version when issued.
    pub ver: u32,
}

/// `jsonwebtoken`'s crypto backend: HMAC-SHA256 and nothing else.
static HS256: CryptoProvider = CryptoProvider {
    signer_factory: |algorithm, key| {
        hs256(algorithm, key.family(), key.as_bytes()).map(|k| Box::new(k) as Box<dyn JwtSigner>)
    },
    verifier_factory: |algorithm, key| {
        hs256(algorithm, key.family(), key.try_get_as_bytes()?)
            .map(|k| Box::new(k) as Box<dyn JwtVerifier>)
    },
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes [`HS256`] the process's backend before `jsonwebtoken` first needs
/// one; later calls find it installed and do nothing.
fn use_hs256() {
    // Only this module installs a backend, so an `Err` means ours is in.
    let _ = HS256.install_default();
}

/// An HMAC-SHA256 key, for HS256 tokens only.
#[derive(Clone)]
struct Hs256(Hmac<Sha256>);

fn hs256(algorithm: &Algorithm, family: AlgorithmFamily, key: &[u8]) -> JwtResult<Hs256> {
    if *algorithm != Algorithm::HS256 || family != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| ErrorKind::InvalidKeyFormat)?;
    Ok(Hs256(mac))
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        // Constant time.
        mac.verify_slice(tag).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// Signs a token for `user` valid for `ttl_secs` from `now`.
pub fn issue(key: &[u8], user: UserId, version: u32, now: u64, ttl_secs: u64) -> String {
    let claims = Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: user,
        iat: now,
        nbf: now.saturating_sub(CLOCK_SLACK_SECS),
        exp: now + ttl_secs,
        ver: version,
    };
    let header = Header {
        typ: Some(TYPE.into()),
        ..Header::new(Algorithm::HS256)
    };
    use_hs256();
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key))
        .expect("HS256 signing cannot fail")
}

/// The claims of a well-formed, correctly signed, unexpired Hush token.
/// Whether its version is still current is the caller's check.
pub fn verify(key: &[u8], token: &str) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 0;
    use_hs256();
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key), &validation)
        .ok()
        .filter(|data| data.header.typ.as_deref() == Some(TYPE))
        .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::encoding::b64;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn a_fresh_token_verifies() {
        let user = UserId::new();
        let token = issue(KEY, user, 3, now(), 60);
        let claims = verify(KEY, &token).unwrap();
        assert_eq!((claims.sub, claims.ver), (user, 3));
    }

    #[test]
    fn expired_foreign_and_unsigned_tokens_are_refused() {
        let user = UserId::new();
        assert_eq!(
            verify(KEY, &issue(KEY, user, 0, now() - 120, 60)),
            None,
            "expired"
        );
        assert_eq!(
            verify(
                KEY,
                &issue(b"another key, also 32 bytes long!", user, 0, now(), 60)
            ),
            None
        );
        // alg: none, with the same claims.
        let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let body = issue(KEY, user, 0, now(), 60)
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        assert_eq!(verify(KEY, &format!("{header}.{body}.")), None, "alg none");
        assert_eq!(verify(KEY, "not.a.token"), None);
    }

    /// A token with these claims and this `typ`, signed with [`KEY`].
    fn signed(typ: Option<&str>, claims: serde_json::Value) -> String {
        let header = Header {
            typ: typ.map(str::to_owned),
            ..Header::new(Algorithm::HS256)
        };
        use_hs256();
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(KEY)).unwrap()
    }

    #[test]
    fn regression_a_token_without_nbf_or_not_yet_valid_or_of_another_type_is_refused() {
        let user = UserId::new();
        let claims = |nbf: Option<u64>| {
            let mut c = serde_json::json!({
                "iss": ISSUER, "aud": AUDIENCE, "sub": user,
                "iat": now(), "exp": now() + 60, "ver": 0
            });
            if let Some(nbf) = nbf {
                c["nbf"] = nbf.into();
            }
            c
        };
        assert!(verify(KEY, &signed(Some(TYPE), claims(Some(now())))).is_some());
        assert_eq!(
            verify(KEY, &signed(Some(TYPE), claims(None))),
            None,
            "no nbf"
        );
        let later = Some(now() + 5);
        assert_eq!(
            verify(KEY, &signed(Some(TYPE), claims(later))),
            None,
            "not yet"
        );
        for typ in [None, Some("JWT"), Some("hush-invite+jwt")] {
            let token = signed(typ, claims(Some(now())));
            assert_eq!(verify(KEY, &token), None, "typ {typ:?}");
        }
    }

    #[test]
    fn wrong_audience_or_issuer_is_refused() {
        for (iss, aud) in [("someone-else", AUDIENCE), (ISSUER, "someone-else")] {
            let claims = serde_json::json!({
                "iss": iss, "aud": aud, "sub": UserId::new(),
                "iat": now(), "nbf": now(), "exp": now() + 60, "ver": 0
            });
            assert_eq!(
                verify(KEY, &signed(Some(TYPE), claims)),
                None,
                "{iss} {aud}"
            );
        }
    }

    #[test]
    fn tokens_are_standard_hs256() {
        // The same header, claims and key signed by Python's hmac module.
        const EXPECTED: &str = "eyJ0eXAiOiJodXNoLXNlc3Npb24rand0IiwiYWxnIjoiSFMyNTYifQ.\
            eyJpc3MiOiJodXNoIiwiYXVkIjoiaHVzaCIsInN1YiI6IjAxODkwMDAwLTAwMDAtNzAwMC04MDAwLTAw\
            MDAwMDAwMDAwMCIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNjk5OTk5OTcwLCJleHAiOjE3MDAwMDAw\
            NjAsInZlciI6MX0.9fw0OzfIfmI4LTpXpz5nJ69Qo1995P9a42wHK9ZBwoM";
        let user: UserId = "01890000-0000-7000-8000-000000000000".parse().unwrap();
        assert_eq!(issue(KEY, user, 1, 1_700_000_000, 60), EXPECTED);
    }

    #[test]
    fn other_algorithms_are_refused() {
        let user = UserId::new();
        let body = issue(KEY, user, 0, now(), 60);
        let (_, claims_and_tag) = body.split_once('.').unwrap();
        for alg in ["HS384", "HS512", "RS256", "ES256"] {
            let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
            assert_eq!(
                verify(KEY, &format!("{header}.{claims_and_tag}")),
                None,
                "{alg}"
            );
        }
        assert!(hs256(&Algorithm::HS384, AlgorithmFamily::Hmac, KEY).is_err());
        assert!(hs256(&Algorithm::ES256, AlgorithmFamily::Ec, KEY).is_err());
    }
}
