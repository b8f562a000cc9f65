'use strict';
// The peer's store: one better-sqlite3 connection to a SQLite file with the
// same tables as Hush's `migrations/sqlite` (bytes as BLOBs, ids and times as
// TEXT), in WAL mode with the synchronous level asked for. Both pragmas are
// read back after they are set, and the store refuses to open if SQLite did
// not apply them, so a benchmark never compares against a weaker durability
// than it reports. Every write that must be atomic (a send, a create) runs in
// one `BEGIN IMMEDIATE` transaction; `seq` is assigned inside it.
//
// Nothing here logs a row's contents.

const Database = require('better-sqlite3');

// The schema of `migrations/sqlite/0001_users.sql` and `0002_conversations.sql`,
// statement for statement (the smoke test compares the two). `IF NOT EXISTS`
// lets a restart reopen the same file; SQLite does not keep that clause in
// `sqlite_master`, so the stored schema is the same as Hush's.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
    id                  TEXT PRIMARY KEY NOT NULL,
    username            TEXT NOT NULL UNIQUE,
    auth_hash           TEXT NOT NULL,
    kdf_salt            BLOB NOT NULL,
    kdf_iterations      INTEGER NOT NULL,
    dh_public           BLOB NOT NULL,
    sig_public          BLOB NOT NULL,
    dh_private_wrapped  BLOB NOT NULL,
    sig_private_wrapped BLOB NOT NULL,
    token_version       INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS conversations (
    id          TEXT PRIMARY KEY NOT NULL,
    title       TEXT,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    last_seq    INTEGER NOT NULL DEFAULT 0,
    active_at   TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS members (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (conversation_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id, conversation_id);

CREATE TABLE IF NOT EXISTS epochs (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    epoch           INTEGER NOT NULL,
    signer_id       TEXT NOT NULL REFERENCES users (id),
    key_commit      BLOB NOT NULL,
    keys_signature  BLOB NOT NULL,
    PRIMARY KEY (conversation_id, epoch)
) STRICT;

CREATE TABLE IF NOT EXISTS wrapped_keys (
    conversation_id TEXT NOT NULL,
    epoch           INTEGER NOT NULL,
    member_id       TEXT NOT NULL REFERENCES users (id),
    wrapped_key     BLOB NOT NULL,
    PRIMARY KEY (conversation_id, epoch, member_id),
    FOREIGN KEY (conversation_id, epoch) REFERENCES epochs (conversation_id, epoch)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS messages (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq             INTEGER NOT NULL,
    sender_id       TEXT NOT NULL REFERENCES users (id),
    epoch           INTEGER NOT NULL,
    nonce           BLOB NOT NULL,
    ciphertext      BLOB NOT NULL,
    signature       BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (conversation_id, seq)
) STRICT;
`;

// PRAGMA synchronous answers a number.
const SYNCHRONOUS_NAMES = { 0: 'OFF', 1: 'NORMAL', 2: 'FULL', 3: 'EXTRA' };

// Every message column, the sender's name joined.
const SELECT_MESSAGE =
  'SELECT m.id, m.conversation_id, m.seq, m.sender_id, u.username AS sender, m.epoch, ' +
  'm.nonce, m.ciphertext, m.signature, m.created_at ' +
  'FROM messages m JOIN users u ON u.id = m.sender_id ';

class Store {
  // Opens (creating if needed) the database at `path` with WAL and the
  // `synchronous` level named ('FULL' or 'NORMAL'); throws if SQLite did
  // not apply either.
  constructor(path, synchronous) {
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      const journal = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
      const level = SYNCHRONOUS_NAMES[db.pragma('synchronous', { simple: true })];
      if (journal !== 'wal') {
        throw new Error(`SQLite kept journal_mode ${journal}, not wal`);
      }
      if (level !== synchronous) {
        throw new Error(`SQLite kept synchronous ${level}, not ${synchronous}`);
      }
      if (db.pragma('foreign_keys', { simple: true }) !== 1) {
        throw new Error('SQLite did not turn foreign_keys on');
      }
      db.exec(SCHEMA);
    } catch (e) {
      db.close();
      throw e;
    }
    this.db = db;
    this.journalMode = 'wal';
    this.synchronous = synchronous;
    this._prepare();
  }

  // One line naming the durability in force, read back from SQLite.
  settings() {
    const journal = this.db.pragma('journal_mode', { simple: true });
    const level = SYNCHRONOUS_NAMES[this.db.pragma('synchronous', { simple: true })];
    return `journal_mode ${journal}, synchronous ${level}`;
  }

  _prepare() {
    const db = this.db;
    this.q = {
      ping: db.prepare('SELECT 1 AS one'),
      insertUser: db.prepare(
        'INSERT INTO users (id, username, auth_hash, kdf_salt, kdf_iterations, dh_public, ' +
          'sig_public, dh_private_wrapped, sig_private_wrapped, token_version, created_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)',
      ),
      userByName: db.prepare(
        'SELECT id, username, dh_public, sig_public, token_version FROM users WHERE username = ?',
      ),
      userById: db.prepare(
        'SELECT id, username, dh_public, sig_public, token_version FROM users WHERE id = ?',
      ),
      userExists: db.prepare('SELECT 1 FROM users WHERE id = ?').pluck(),
      insertConversation: db.prepare(
        'INSERT INTO conversations (id, title, created_by, created_at, last_seq, active_at) ' +
          'VALUES (?, ?, ?, ?, 0, ?)',
      ),
      insertMember: db.prepare('INSERT INTO members (conversation_id, user_id) VALUES (?, ?)'),
      insertEpoch: db.prepare(
        'INSERT INTO epochs (conversation_id, epoch, signer_id, key_commit, keys_signature) ' +
          'VALUES (?, ?, ?, ?, ?)',
      ),
      insertKey: db.prepare(
        'INSERT INTO wrapped_keys (conversation_id, epoch, member_id, wrapped_key) ' +
          'VALUES (?, ?, ?, ?)',
      ),
      conversation: db.prepare(
        'SELECT id, title, created_by, created_at, last_seq FROM conversations WHERE id = ?',
      ),
      members: db.prepare(
        'SELECT u.id, u.username, u.dh_public, u.sig_public FROM members m ' +
          'JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ? ORDER BY u.username',
      ),
      epochs: db.prepare(
        'SELECT epoch, signer_id, key_commit, keys_signature FROM epochs WHERE conversation_id = ? ' +
          'ORDER BY epoch',
      ),
      keys: db.prepare(
        'SELECT k.member_id, k.wrapped_key, u.username, u.dh_public, u.sig_public ' +
          'FROM wrapped_keys k JOIN users u ON u.id = k.member_id ' +
          'WHERE k.conversation_id = ? AND k.epoch = ? ORDER BY k.member_id',
      ),
      conversationsOf: db.prepare(
        'SELECT c.id, c.title, c.created_by, c.created_at, c.last_seq FROM conversations c ' +
          'JOIN members m ON m.conversation_id = c.id WHERE m.user_id = ? ' +
          'ORDER BY c.active_at DESC, c.id DESC',
      ),
      conversationIdsOf: db
        .prepare('SELECT conversation_id FROM members WHERE user_id = ?')
        .pluck(),
      isMember: db
        .prepare('SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?')
        .pluck(),
      messageById: db.prepare(SELECT_MESSAGE + 'WHERE m.id = ?'),
      currentEpoch: db
        .prepare('SELECT MAX(epoch) FROM epochs WHERE conversation_id = ?')
        .pluck(),
      nextSeq: db
        .prepare(
          'UPDATE conversations SET last_seq = last_seq + 1, active_at = ? WHERE id = ? ' +
            'RETURNING last_seq',
        )
        .pluck(),
      insertMessage: db.prepare(
        'INSERT INTO messages (id, conversation_id, seq, sender_id, epoch, nonce, ciphertext, ' +
          'signature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      historyAsc: db.prepare(
        SELECT_MESSAGE +
          'WHERE m.conversation_id = ? AND m.seq > ? AND m.seq < ? ORDER BY m.seq ASC LIMIT ?',
      ),
      historyDesc: db.prepare(
        SELECT_MESSAGE +
          'WHERE m.conversation_id = ? AND m.seq > ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?',
      ),
    };
    this._createTx = db.transaction((c) => this._createInTx(c));
    this._appendTx = db.transaction((m) => this._appendInTx(m));
  }

  // A real round trip to the database.
  ping() {
    return this.q.ping.get().one === 1;
  }

  // Stores a new user; false if the name is taken.
  createUser(u) {
    try {
      this.q.insertUser.run(
        u.id,
        u.username,
        u.authHash,
        u.kdfSalt,
        u.kdfIterations,
        u.dhPublic,
        u.sigPublic,
        u.dhPrivateWrapped,
        u.sigPrivateWrapped,
        u.createdAt,
      );
      return true;
    } catch (e) {
      if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        return false;
      }
      throw e;
    }
  }

  userByName(username) {
    return this.q.userByName.get(username);
  }

  userById(id) {
    return this.q.userById.get(id);
  }

  // The index of the first member id without an account, or -1.
  firstUnknownUser(ids) {
    for (let i = 0; i < ids.length; i++) {
      if (this.q.userExists.get(ids[i]) === undefined) return i;
    }
    return -1;
  }

  // Creates a conversation in one transaction. Answers
  // `{created: conversation}`, `{repeat: conversation}` (same id, creator and
  // members already stored) or `{conflict: true}` (the id is another's).
  createConversation(c) {
    return this._createTx.immediate(c);
  }

  _createInTx(c) {
    const stored = this.q.conversation.get(c.id);
    if (stored) {
      const held = this.q.members.all(c.id).map((m) => m.id);
      const asked = new Set(c.memberIds);
      const same =
        stored.created_by === c.createdBy &&
        held.length === asked.size &&
        held.every((id) => asked.has(id));
      return same ? { repeat: this._complete(stored) } : { conflict: true };
    }
    this.q.insertConversation.run(c.id, c.title, c.createdBy, c.createdAt, c.createdAt);
    for (const member of c.memberIds) this.q.insertMember.run(c.id, member);
    this.q.insertEpoch.run(c.id, 0, c.createdBy, c.commit, c.keysSignature);
    for (const k of c.keys) this.q.insertKey.run(c.id, 0, k.memberId, k.wrappedKey);
    return { created: this._complete(this.q.conversation.get(c.id)) };
  }

  // A conversation row with its members and epochs, in wire form.
  _complete(row) {
    const members = this.q.members.all(row.id).map((m) => ({
      id: m.id,
      username: m.username,
      dh_public: b64(m.dh_public),
      sig_public: b64(m.sig_public),
    }));
    // Each epoch's signed members are those its keys name (second edition).
    const epochs = this.q.epochs.all(row.id).map((e) => {
      const keys = this.q.keys.all(row.id, e.epoch);
      return {
        epoch: e.epoch,
        signer_id: e.signer_id,
        commit: b64(e.key_commit),
        members: keys.map((k) => ({
          id: k.member_id,
          username: k.username,
          dh_public: b64(k.dh_public),
          sig_public: b64(k.sig_public),
        })),
        keys: keys.map((k) => ({
          member_id: k.member_id,
          wrapped_key: b64(k.wrapped_key),
        })),
        keys_signature: b64(e.keys_signature),
      };
    });
    return {
      id: row.id,
      title: row.title,
      created_by: row.created_by,
      created_at: row.created_at,
      last_seq: row.last_seq,
      members,
      epochs,
    };
  }

  conversation(id) {
    const row = this.q.conversation.get(id);
    return row ? this._complete(row) : undefined;
  }

  // Every conversation of `userId`, most recently active first.
  conversationsOf(userId) {
    return this.q.conversationsOf.all(userId).map((row) => this._complete(row));
  }

  conversationIdsOf(userId) {
    return this.q.conversationIdsOf.all(userId);
  }

  isMember(conversationId, userId) {
    return this.q.isMember.get(conversationId, userId) !== undefined;
  }

  // Appends a message in one transaction. Answers `{stored: message}` (new),
  // `{repeat: message}` (the same send again), or a refusal:
  // `{refusal: 'not_a_member' | 'id_conflict'}` or
  // `{refusal: 'stale_epoch', current}`.
  appendMessage(m) {
    return this._appendTx.immediate(m);
  }

  _appendInTx(m) {
    const q = this.q;
    if (q.isMember.get(m.conversationId, m.senderId) === undefined) {
      return { refusal: 'not_a_member' };
    }
    const earlier = q.messageById.get(m.id);
    if (earlier) {
      const same =
        earlier.conversation_id === m.conversationId &&
        earlier.sender_id === m.senderId &&
        earlier.epoch === m.epoch &&
        earlier.nonce.equals(m.nonce) &&
        earlier.ciphertext.equals(m.ciphertext) &&
        earlier.signature.equals(m.signature);
      return same ? { repeat: messageToWire(earlier) } : { refusal: 'id_conflict' };
    }
    const current = q.currentEpoch.get(m.conversationId);
    if (current !== m.epoch) {
      return { refusal: 'stale_epoch', current };
    }
    const seq = q.nextSeq.get(m.createdAt, m.conversationId);
    q.insertMessage.run(
      m.id,
      m.conversationId,
      seq,
      m.senderId,
      m.epoch,
      m.nonce,
      m.ciphertext,
      m.signature,
      m.createdAt,
    );
    return {
      stored: {
        id: m.id,
        conversation_id: m.conversationId,
        seq,
        sender_id: m.senderId,
        sender: m.sender,
        epoch: m.epoch,
        nonce: b64(m.nonce),
        ciphertext: b64(m.ciphertext),
        signature: b64(m.signature),
        created_at: m.createdAt,
      },
    };
  }

  // One page of history in ascending seq. Both bounds exclusive; with
  // `afterSeq` the oldest `limit` after it, else the newest `limit` before
  // `beforeSeq` (or the end).
  history(conversationId, { beforeSeq, afterSeq, limit }) {
    const after = afterSeq === undefined ? 0 : afterSeq;
    const before = beforeSeq === undefined ? Number.MAX_SAFE_INTEGER : beforeSeq;
    if (afterSeq !== undefined) {
      return this.q.historyAsc.all(conversationId, after, before, limit).map(messageToWire);
    }
    return this.q.historyDesc.all(conversationId, after, before, limit).map(messageToWire).reverse();
  }

  close() {
    if (this.db.open) this.db.close();
  }
}

function b64(bytes) {
  return bytes.toString('base64url');
}

function messageToWire(r) {
  return {
    id: r.id,
    conversation_id: r.conversation_id,
    seq: r.seq,
    sender_id: r.sender_id,
    sender: r.sender,
    epoch: r.epoch,
    nonce: b64(r.nonce),
    ciphertext: b64(r.ciphertext),
    signature: b64(r.signature),
    created_at: r.created_at,
  };
}

module.exports = { Store, SCHEMA };
