-- Accounts. The server holds only what DESIGN.md lets it see: the name, the
-- Argon2id hash of the browser-derived auth_key (never the password), the KDF
-- parameters, public keys, and private keys wrapped under a key that only the
-- password can derive.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,      -- UUID v7, lowercase hyphenated
    username            TEXT NOT NULL UNIQUE,           -- canonical (lowercase) form
    auth_hash           TEXT NOT NULL,                  -- PHC string, Argon2id(auth_key)
    kdf_salt            BLOB NOT NULL,                  -- 16 bytes, made by the browser
    kdf_iterations      INTEGER NOT NULL,
    dh_public           BLOB NOT NULL,                  -- 65-byte P-256 point
    sig_public          BLOB NOT NULL,                  -- 65-byte P-256 point
    dh_private_wrapped  BLOB NOT NULL,
    sig_private_wrapped BLOB NOT NULL,
    token_version       INTEGER NOT NULL DEFAULT 0,     -- bumped by logout: older tokens stop working
    created_at          TEXT NOT NULL                   -- RFC 3339 UTC
) STRICT;
