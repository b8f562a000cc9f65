-- The live conversation (DESIGN.md, "Live conversation (wire)"). Each
-- member's read position: the highest `seq` they have read there (0: none),
-- which only goes up. What each user shares with the people they share a
-- conversation with: read receipts and online status, both on by default
-- and both reciprocal (who shares neither sees the others').
ALTER TABLE members ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN share_receipts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN share_presence INTEGER NOT NULL DEFAULT 1;

-- A list reads the positions above 0 only: in a group of 1,000 where few
-- have read anything yet, it does not walk every member.
CREATE INDEX members_read ON members (conversation_id, user_id, read_seq) WHERE read_seq > 0;
