//! What the account endpoints do, apart from HTTP: check every field, talk to
//! the store, hash and verify, issue and check tokens. The endpoints in
//! `api` only extract the request's parts and call these.

use std::net::IpAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::auth::recent::RecentUsers;
use super::auth::secrets::ServerSecrets;
use super::auth::{password, token};
use super::fields;
use super::state::AppState;
use super::store::{Store, StoreError, UserRecord};
use super::{shared_throttle, throttle};
use crate::model::account::{KdfParams, LoginAnswer, PublicUser, Session, Signup, User};
use crate::model::blob::Blob;
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::UserId;
use crate::model::live::Sharing;
use crate::model::suite::{KDF_ITERATIONS, KDF_SALT_LEN, KEY_LEN};
use crate::model::username;

/// Largest wrapped private key accepted (a 138-byte PKCS#8 plus nonce and tag
/// is 166 bytes; room for other encodings, not for abuse).
const MAX_WRAPPED_KEY: usize = 1024;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn canonical_username(input: &str) -> Result<String, ApiError> {
    username::canonical(input).map_err(|e| ApiError::invalid("username", &e.to_string()))
}

fn session_for(state: &AppState, user: &UserRecord) -> String {
    token::issue(
        state.secrets.token_key(),
        user.id,
        user.token_version,
        now_secs(),
        state.settings.token_ttl_secs,
    )
}

fn rate_limited(retry_after: std::time::Duration) -> ApiError {
    let secs = retry_after.as_secs().max(1);
    ApiError::new(
        ErrorCode::RateLimited,
        format!("Too many attempts. Try again in {secs} seconds."),
    )
    .with_retry_after(secs)
}

/// The answer when password work could not be done: 503 with
/// `Retry-After` while the hashing queue is full.
fn not_hashed(e: password::Offload) -> ApiError {
    match e {
        password::Offload::Busy => ApiError::new(
            ErrorCode::StoreUnavailable,
            "The server is busy checking passwords. Try again in a moment.",
        )
        .with_retry_after(2),
        password::Offload::Failed => ApiError::internal(),
    }
}

/// How to derive `username`'s keys; for a name without an account, a stable
/// fake salt and the default iterations, so names cannot be probed.
pub async fn prelogin(
    state: &AppState,
    username: &str,
    address: IpAddr,
) -> Result<KdfParams, ApiError> {
    let name = canonical_username(username)?;
    let keys = throttle::prelogin_keys(&name, address);
    shared_throttle::take_all(state, &keys)
        .await
        .map_err(rate_limited)?;
    Ok(match state.store.user_by_name(&name).await? {
        Some(user) => user.kdf,
        None => KdfParams {
            kdf_salt: state.secrets.fake_salt(&name).into(),
            kdf_iterations: *KDF_ITERATIONS.start(),
        },
    })
}

/// Creates an account and signs it in. Sign-ups count per client address
/// (the `signups_per_address` setting), once the request is well formed.
pub async fn signup(state: &AppState, input: Signup, address: IpAddr) -> Result<Session, ApiError> {
    let name = canonical_username(&input.username)?;
    fields::exact("auth_key", &input.auth_key, KEY_LEN)?;
    let kdf = KdfParams {
        kdf_salt: input.kdf_salt,
        kdf_iterations: input.kdf_iterations,
    };
    fields::exact("kdf_salt", &kdf.kdf_salt, KDF_SALT_LEN)?;
    if kdf.kdf_iterations < state.settings.kdf_min_iterations {
        return Err(ApiError::new(
            ErrorCode::KdfTooWeak,
            format!(
                "kdf_iterations: at least {} are required",
                state.settings.kdf_min_iterations
            ),
        ));
    }
    if kdf.kdf_iterations > *KDF_ITERATIONS.end() {
        return Err(ApiError::invalid("kdf_iterations", "at most 10000000"));
    }
    let identity = input.identity;
    fields::public_key("identity.dh_public", &identity.dh_public)?;
    fields::public_key("identity.sig_public", &identity.sig_public)?;
    fields::at_most(
        "identity.dh_private_wrapped",
        &identity.dh_private_wrapped,
        MAX_WRAPPED_KEY,
    )?;
    fields::at_most(
        "identity.sig_private_wrapped",
        &identity.sig_private_wrapped,
        MAX_WRAPPED_KEY,
    )?;

    let keys = throttle::signup_keys(address, state.settings.signups_per_address);
    shared_throttle::take_all(state, &keys)
        .await
        .map_err(rate_limited)?;
    let auth_key = input.auth_key;
    let auth_hash = password::offload(move || password::hash(&auth_key))
        .await
        .map_err(not_hashed)?;
    let user = UserRecord {
        id: UserId::new(),
        username: name,
        auth_hash,
        kdf,
        identity,
        token_version: 0,
        created_at: fields::now_rfc3339(),
        sharing: Sharing::default(),
    };
    match state.store.create_user(&user).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(ApiError::new(
                ErrorCode::UsernameTaken,
                "That username is taken.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(user = %user.id, "account created");
    Ok(Session {
        token: session_for(state, &user),
        user: User {
            id: user.id,
            username: user.username,
        },
    })
}

/// Checks `auth_key` for `username` and signs in. An unknown name and a wrong
/// key get the same answer after the same work.
pub async fn login(
    state: &AppState,
    username: &str,
    auth_key: Blob,
    address: IpAddr,
) -> Result<LoginAnswer, ApiError> {
    let name = canonical_username(username)?;
    fields::exact("auth_key", &auth_key, KEY_LEN)?;
    let keys = throttle::login_keys(&name, address);
    // A few at a time per account and address; the rest are refused, not
    // counted, and may try again in a moment.
    let _checking = state
        .throttle
        .in_flight
        .enter(&keys[0].0, throttle::LOGINS_IN_FLIGHT)
        .ok_or_else(|| rate_limited(std::time::Duration::from_secs(1)))?;
    // Counted before the hash is checked, given back if it checks out.
    let attempt = shared_throttle::take_all(state, &keys)
        .await
        .map_err(rate_limited)?;
    let user = state.store.user_by_name(&name).await?;
    let stored = user.as_ref().map(|u| u.auth_hash.clone());
    let genuine = password::offload(move || match stored {
        Some(hash) => password::verify(&auth_key, &hash),
        None => {
            password::verify_nobody(&auth_key);
            false
        }
    })
    .await
    .map_err(not_hashed)?;
    let Some(user) = user.filter(|_| genuine) else {
        return Err(ApiError::unauthorized());
    };
    shared_throttle::succeeded(state, attempt).await;
    Ok(LoginAnswer {
        token: session_for(state, &user),
        user: User {
            id: user.id,
            username: user.username,
        },
        identity: user.identity,
    })
}

/// The user a token belongs to, if it is valid and not revoked.
/// The user's row comes from `recent` when it was read moments ago and
/// agrees with the token; otherwise from the store.
pub async fn authenticate(
    store: &dyn Store,
    secrets: &ServerSecrets,
    recent: &RecentUsers,
    bearer: &str,
) -> Result<UserRecord, ApiError> {
    let claims = token::verify(secrets.token_key(), bearer).ok_or_else(ApiError::unauthorized)?;
    check_session(store, recent, claims.sub, claims.ver).await
}

/// Whether the sessions of `user` issued at token `version` still stand
/// (no logout since), from the short cache of recent users or the store.
pub async fn check_session(
    store: &dyn Store,
    recent: &RecentUsers,
    user: UserId,
    version: u32,
) -> Result<UserRecord, ApiError> {
    let now = Instant::now();
    if let Some(found) = recent.get(user, now)
        && found.token_version == version
    {
        return Ok(found);
    }
    match store.user_by_id(user).await? {
        Some(found) if found.token_version == version => {
            recent.put(&found, now);
            Ok(found)
        }
        _ => Err(ApiError::unauthorized()),
    }
}

/// Ends every session of `user` at once, and closes the user's sockets.
pub async fn logout(state: &AppState, user: UserId) -> Result<(), ApiError> {
    let version = state.store.bump_token_version(user).await?;
    state.recent.revoke(user, version, Instant::now());
    state.bus.revoked(user, version).await;
    if let Some(sockets) = state.within(crate::protocol::user_room(user))
        && let Err(e) = sockets.disconnect().await
    {
        tracing::warn!(user = %user, error = %e, "could not close every socket at logout");
    }
    Ok(())
}

/// Another user's public keys, by name.
pub async fn lookup(
    state: &AppState,
    caller: UserId,
    username: &str,
) -> Result<PublicUser, ApiError> {
    state.limit(caller, super::rate::Action::Lookup)?;
    let name = canonical_username(username)?;
    let user =
        state.store.user_by_name(&name).await?.ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("No user is called {name}."))
        })?;
    Ok(user.public())
}
