-- Conversations and messages. The server keeps who is in a conversation,
-- each epoch's signed set of wrapped content keys, and each message sealed:
-- nonce, ciphertext, signature. It never holds a content key or a body.
CREATE TABLE conversations (
    id          TEXT PRIMARY KEY NOT NULL,              -- UUID v7, chosen by the creator's browser
    title       TEXT,                                   -- optional, visible to the server
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,                          -- RFC 3339 UTC
    last_seq    INTEGER NOT NULL DEFAULT 0,             -- seq of the newest message; 0 while none
    active_at   TEXT NOT NULL                           -- time of the newest message, else created_at
) STRICT;

CREATE TABLE members (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (conversation_id, user_id)
) STRICT, WITHOUT ROWID;

-- "My conversations" and the rooms a socket joins at connect.
CREATE INDEX members_by_user ON members (user_id, conversation_id);

CREATE TABLE epochs (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    epoch           INTEGER NOT NULL,
    signer_id       TEXT NOT NULL REFERENCES users (id),
    keys_signature  BLOB NOT NULL,                      -- 64-byte ECDSA r || s
    PRIMARY KEY (conversation_id, epoch)
) STRICT;

CREATE TABLE wrapped_keys (
    conversation_id TEXT NOT NULL,
    epoch           INTEGER NOT NULL,
    member_id       TEXT NOT NULL REFERENCES users (id),
    wrapped_key     BLOB NOT NULL,                      -- E.public || nonce || AES-GCM(wk, ck)
    PRIMARY KEY (conversation_id, epoch, member_id),
    FOREIGN KEY (conversation_id, epoch) REFERENCES epochs (conversation_id, epoch)
) STRICT, WITHOUT ROWID;

CREATE TABLE messages (
    id              TEXT PRIMARY KEY NOT NULL,          -- UUID v7, chosen by the sender's browser
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq             INTEGER NOT NULL,                   -- gap-free per conversation, from 1
    sender_id       TEXT NOT NULL REFERENCES users (id),
    epoch           INTEGER NOT NULL,
    nonce           BLOB NOT NULL,
    ciphertext      BLOB NOT NULL,
    signature       BLOB NOT NULL,
    created_at      TEXT NOT NULL,                      -- RFC 3339 UTC, the server's clock
    UNIQUE (conversation_id, seq)
) STRICT;
