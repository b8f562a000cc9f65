-- Keys the nodes of one deployment must share and that are not secrets of
-- anyone's messages: the key of the made-up salts that names without an
-- account get at prelogin (each node used to keep its own, in its data
-- directory, so two nodes answered an unknown name differently and told it
-- apart from a known one). The first node to start stores its own; every
-- node then uses the stored one.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);
