//! Session tokens: JWT with HS256 only. `iss`, `aud`, `exp` and `sub` are
//! required and checked with no leeway; `ver` is the user's token version,
//! which logout bumps, so an older token stops working at once.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::model::ids::UserId;

/// The issuer and audience of every Hush token.
pub const ISSUER: &str = "hush";
pub const AUDIENCE: &str = "hush";

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user.
    pub sub: UserId,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
    /// The user's token version when issued.
    pub ver: u32,
}

/// Signs a token for `user` valid for `ttl_secs` from `now`.
pub fn issue(key: &[u8], user: UserId, version: u32, now: u64, ttl_secs: u64) -> String {
    let claims = Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: user,
        iat: now,
        exp: now + ttl_secs,
        ver: version,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key),
    )
    .expect("HS256 signing cannot fail")
}

/// The claims of a well-formed, correctly signed, unexpired Hush token.
/// Whether its version is still current is the caller's check.
pub fn verify(key: &[u8], token: &str) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key), &validation)
        .ok()
        .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::encoding::b64;

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

    #[test]
    fn wrong_audience_or_issuer_is_refused() {
        let claims = serde_json::json!({
            "iss": "someone-else", "aud": AUDIENCE, "sub": UserId::new(),
            "iat": now(), "exp": now() + 60, "ver": 0
        });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(KEY),
        )
        .unwrap();
        assert_eq!(verify(KEY, &token), None);
    }
}
