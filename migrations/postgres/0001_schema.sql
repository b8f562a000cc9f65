-- The whole logical schema of migrations/sqlite 0001–0006, in PostgreSQL's
-- dialect (this backend starts there: nothing was deployed on it before).
-- Ids are UUID v7 in their lowercase hyphenated text form, as on SQLite;
-- times are RFC 3339 UTC text, made by the server; every integer is BIGINT.
-- Text compares bytewise (COLLATE "C"), as SQLite's does: list pages cut
-- by id and members come in name order, the same on both.
--
-- The server holds only what DESIGN.md lets it see: names, the Argon2id
-- hash of the browser-derived auth_key (never the password), KDF
-- parameters, public keys, private keys wrapped under a key only the
-- password can derive, who is in a conversation, each epoch's signed set of
-- wrapped content keys, and each message sealed. It never holds a content
-- key or a body.

CREATE TABLE users (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    username            TEXT COLLATE "C" NOT NULL UNIQUE,           -- canonical (lowercase) form
    auth_hash           TEXT COLLATE "C" NOT NULL,                  -- PHC string, Argon2id(auth_key)
    kdf_salt            BYTEA NOT NULL,
    kdf_iterations      BIGINT NOT NULL,
    dh_public           BYTEA NOT NULL,                 -- 65-byte P-256 point
    sig_public          BYTEA NOT NULL,                 -- 65-byte P-256 point
    dh_private_wrapped  BYTEA NOT NULL,
    sig_private_wrapped BYTEA NOT NULL,
    token_version       BIGINT NOT NULL DEFAULT 0,      -- bumped by logout
    created_at          TEXT COLLATE "C" NOT NULL,
    -- What the user shares with the people they share a conversation with;
    -- both reciprocal.
    share_receipts      BOOLEAN NOT NULL DEFAULT TRUE,
    share_presence      BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE conversations (
    id          TEXT COLLATE "C" PRIMARY KEY,                       -- chosen by the creator's browser
    title       TEXT COLLATE "C",                                   -- optional, visible to the server
    created_by  TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at  TEXT COLLATE "C" NOT NULL,
    last_seq    BIGINT NOT NULL DEFAULT 0,              -- seq of the newest message; 0 while none
    active_at   TEXT COLLATE "C" NOT NULL                           -- time of the newest message, else created_at
);

-- The access list of now, with each member's read position (the highest
-- seq they have read; only goes up).
CREATE TABLE members (
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (id),
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    read_seq        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
);

-- "My conversations" and the rooms a socket joins at connect.
CREATE INDEX members_by_user ON members (user_id, conversation_id);
-- A list reads the positions above 0 only.
CREATE INDEX members_read ON members (conversation_id, user_id, read_seq) WHERE read_seq > 0;

CREATE TABLE epochs (
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (id),
    epoch           BIGINT NOT NULL,
    signer_id       TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    key_commit      BYTEA NOT NULL,                     -- HMAC-SHA256(ck, …): reveals nothing of ck
    keys_signature  BYTEA NOT NULL,                     -- 64-byte ECDSA r || s
    PRIMARY KEY (conversation_id, epoch)
);

-- An epoch's signed members are those its wrapped keys name.
CREATE TABLE wrapped_keys (
    conversation_id TEXT COLLATE "C" NOT NULL,
    epoch           BIGINT NOT NULL,
    member_id       TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    wrapped_key     BYTEA NOT NULL,                     -- E.public || nonce || AES-GCM(wk, ck)
    PRIMARY KEY (conversation_id, epoch, member_id),
    FOREIGN KEY (conversation_id, epoch) REFERENCES epochs (conversation_id, epoch)
);

-- History reads a member's epochs by this key's prefix.
CREATE INDEX wrapped_keys_by_member ON wrapped_keys (conversation_id, member_id, epoch);

-- A member's signed leave from epoch `left_epoch`, kept as given;
-- `carried_in` is the epoch that carries it, NULL while sends wait for it.
CREATE TABLE departures (
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (id),
    member_id       TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    left_epoch      BIGINT NOT NULL,
    signature       BYTEA NOT NULL,
    carried_in      BIGINT,
    PRIMARY KEY (conversation_id, left_epoch, member_id)
);

CREATE TABLE messages (
    id              TEXT COLLATE "C" PRIMARY KEY,                   -- chosen by the sender's browser
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (id),
    seq             BIGINT NOT NULL,                    -- gap-free per conversation, from 1
    sender_id       TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    epoch           BIGINT NOT NULL,
    nonce           BYTEA NOT NULL,
    ciphertext      BYTEA NOT NULL,
    signature       BYTEA NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,                      -- the server's clock
    UNIQUE (conversation_id, seq)
);

-- Contact books: ciphertext under a key the server never holds; the server
-- reads only the version (compare-and-set) and the size.
CREATE TABLE contact_books (
    user_id     TEXT COLLATE "C" PRIMARY KEY REFERENCES users (id),
    version     BIGINT NOT NULL,
    book        BYTEA NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);
