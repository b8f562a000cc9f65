//! The server's own secrets: the key that signs session tokens, and the key
//! that makes stable fake salts for unknown usernames. Generated once into
//! `<data_dir>/secrets.json` (mode 0600) unless the settings give the token
//! key (which several nodes must share). The salt key the nodes use is the
//! one stored in the shared database ([`ServerSecrets::share_salt_key`]):
//! nodes that used their own would answer an unknown name's prelogin with
//! different salts, telling whoever asks two nodes that the name has no
//! account.

use std::fmt;
use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::model::encoding::{b64, unb64};
use crate::model::suite::KDF_SALT_LEN;

/// The file, inside the data directory.
pub const FILE_NAME: &str = "secrets.json";
/// The salt key's name in the database's `server_keys`.
const SALT_KEY_NAME: &str = "fake-salt";

/// Keys the server holds; redacted in `Debug`.
pub struct ServerSecrets {
    token_key: Zeroizing<Vec<u8>>,
    salt_key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for ServerSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerSecrets(<redacted>)")
    }
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    token_key: String,
    salt_key: String,
}

impl ServerSecrets {
    /// Loads the secrets from the data directory, creating them on first use.
    /// `token_key`, when given (at least 32 bytes), replaces the file's.
    pub fn load_or_create(data_dir: &Path, token_key: Option<&str>) -> std::io::Result<Self> {
        crate::server::data_dir::create(data_dir)?;
        let path = data_dir.join(FILE_NAME);
        let on_disk = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<OnDisk>(&bytes).map_err(|e| {
                std::io::Error::other(format!("{} is damaged: {e}", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = OnDisk {
                    token_key: b64(&random_bytes::<32>()),
                    salt_key: b64(&random_bytes::<32>()),
                };
                write_private(&path, &serde_json::to_vec_pretty(&fresh)?)?;
                fresh
            }
            Err(e) => return Err(e),
        };
        let decode = |text: &str, what: &str| {
            unb64(text).filter(|k| k.len() >= 32).ok_or_else(|| {
                std::io::Error::other(format!(
                    "{}: {what} is not 32+ bytes of base64url",
                    path.display()
                ))
            })
        };
        let token_key = match token_key {
            Some(key) => Zeroizing::new(key.as_bytes().to_vec()),
            None => Zeroizing::new(decode(&on_disk.token_key, "token_key")?),
        };
        Ok(ServerSecrets {
            token_key,
            salt_key: Zeroizing::new(decode(&on_disk.salt_key, "salt_key")?),
        })
    }

    /// Uses the salt key stored in the shared database, storing this
    /// node's own there if none was (the first node of a deployment, or a
    /// node upgraded from before the table: its salts do not change).
    pub async fn share_salt_key(
        &mut self,
        store: &dyn crate::server::store::Store,
    ) -> Result<(), crate::server::store::StoreError> {
        let shared = store.server_key(SALT_KEY_NAME, &self.salt_key).await?;
        self.salt_key = Zeroizing::new(shared);
        Ok(())
    }

    /// The HS256 key for session tokens.
    pub fn token_key(&self) -> &[u8] {
        &self.token_key
    }

    /// A stable fake `kdf_salt` for a name that has no account, so that
    /// prelogin answers the same shape for every name.
    pub fn fake_salt(&self, username: &str) -> [u8; KDF_SALT_LEN] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.salt_key).expect("any key length");
        mac.update(b"hush|fake-salt|");
        mac.update(username.as_bytes());
        let full = mac.finalize().into_bytes();
        full[..KDF_SALT_LEN].try_into().expect("32 > 16")
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let first = ServerSecrets::load_or_create(dir.path(), None).unwrap();
        let again = ServerSecrets::load_or_create(dir.path(), None).unwrap();
        assert_eq!(first.token_key(), again.token_key());
        assert_eq!(first.fake_salt("nobody"), again.fake_salt("nobody"));
        assert_ne!(first.fake_salt("nobody"), first.fake_salt("someone"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(format!("{first:?}"), "ServerSecrets(<redacted>)");
    }

    #[test]
    fn a_configured_token_key_wins() {
        let dir = tempfile::tempdir().unwrap();
        let key = "a-shared-secret-for-every-node-0123456789";
        let secrets = ServerSecrets::load_or_create(dir.path(), Some(key)).unwrap();
        assert_eq!(secrets.token_key(), key.as_bytes());
    }

    #[tokio::test]
    async fn nodes_on_one_database_share_the_first_ones_salt_key() {
        let shared = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/shared.db?mode=rwc", shared.path().display());
        let store = crate::server::store::SqliteStore::open_url(&url)
            .await
            .unwrap();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut first = ServerSecrets::load_or_create(a.path(), None).unwrap();
        let mut second = ServerSecrets::load_or_create(b.path(), None).unwrap();
        let own = first.fake_salt("nobody");
        assert_ne!(own, second.fake_salt("nobody"), "each made its own");
        first.share_salt_key(&store).await.unwrap();
        second.share_salt_key(&store).await.unwrap();
        assert_eq!(first.fake_salt("nobody"), own, "the first keeps its salts");
        assert_eq!(second.fake_salt("nobody"), own, "the second takes them");
    }
}
