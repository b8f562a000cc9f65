-- Keys the nodes of one deployment must share and that are not secrets of
-- anyone's messages: the key of the made-up salts that names without an
-- account get at prelogin (as migrations/sqlite/0007). The first node to
-- start stores its own; every node then uses the stored one.
CREATE TABLE server_keys (
    name TEXT COLLATE "C" PRIMARY KEY,
    value BYTEA NOT NULL
);
