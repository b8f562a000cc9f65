-- Groups that change (DESIGN.md, "Groups that change (wire)" and suite
-- step 7). Members come and go: `members` stays the access list of now;
-- each epoch's signed members are those its wrapped keys name, so a member
-- reads the epochs it holds a key in, and only those.
--
-- A departure is a member's signed leave from epoch `left_epoch`, kept as
-- given (the server cannot check it; every client does). `carried_in` is
-- the epoch that carries it (always `left_epoch + 1`), NULL while it waits
-- for that epoch: sends are refused until then.
CREATE TABLE departures (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    member_id       TEXT NOT NULL REFERENCES users (id),
    left_epoch      INTEGER NOT NULL,
    signature       BLOB NOT NULL,                      -- 64-byte ECDSA r || s
    carried_in      INTEGER,
    PRIMARY KEY (conversation_id, left_epoch, member_id)
) STRICT, WITHOUT ROWID;

-- History reads a member's epochs by this key's prefix.
CREATE INDEX wrapped_keys_by_member ON wrapped_keys (conversation_id, member_id, epoch);
