-- Contact books (DESIGN.md, suite step 8): one per user, encrypted in the
-- browser under a key the server never holds, and stored exactly as given.
-- The server reads only the version (for compare-and-set puts) and the
-- size; it never interprets, logs or returns the book to anyone but its
-- owner.
CREATE TABLE contact_books (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    version     INTEGER NOT NULL,                       -- from 1; each put is the stored one + 1
    book        BLOB NOT NULL,                          -- ciphertext, at most 256 KiB
    updated_at  TEXT NOT NULL                           -- RFC 3339 UTC, the server's clock
) STRICT;
