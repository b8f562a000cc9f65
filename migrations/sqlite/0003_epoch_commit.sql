-- Suite second edition (DESIGN.md, steps 6 and 7): each epoch carries the
-- commitment to its content key, `HMAC-SHA256(ck, "hush-v1|commit|…")`,
-- stored as the creator gave it (it reveals nothing of the key). An epoch's
-- signed members are those its wrapped keys name, with the names and public
-- keys of their accounts (which never change). Epochs written before this
-- have no commitment (empty here): clients verify second-edition statements
-- only, so they refuse them, as DESIGN.md says (nothing was deployed).
ALTER TABLE epochs ADD COLUMN key_commit BLOB NOT NULL DEFAULT X'';
