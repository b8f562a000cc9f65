#!/usr/bin/env node
'use strict';
// The peer: the seed's own stack (Express, socket.io 4, better-sqlite3,
// jsonwebtoken) speaking Hush's wire contract (docs/API.md) as a
// store-and-relay server. It exists only as the benchmark's comparison
// point: the same load generator drives Hush and this server one after the
// other, on the same machine, with the same durability setting. It is not a
// second implementation of Hush to run for people.
//
// The crypto lives in the clients, so a store-and-relay server is all the
// seed's design ever needed: it checks shapes, sizes and membership, stores
// ciphertext, assigns a gap-free `seq` in the transaction that stores a
// message, and pushes `new-message` to the conversation's room after the
// commit. What it leaves out is said in README.md beside this file.
//
//   node server.js --port 3300 --db /path/peer.db [--synchronous FULL|NORMAL]
//                  [--secret S] [--host 127.0.0.1]
//
// Ready: `peer listening on http://HOST:PORT` on stdout, and the durability
// in force, read back from SQLite, on stderr. Bad arguments exit 2; SIGTERM
// or SIGINT closes the sockets, the HTTP server and the database, exit 0.
// Nothing here logs a message's bytes.

const crypto = require('node:crypto');
const http = require('node:http');
const { parseArgs } = require('node:util');

const express = require('express');
const jwt = require('jsonwebtoken');
const { Server } = require('socket.io');

const { Store } = require('./store');

// Limits. Hush allows 100 members; the peer allows more so that a room of
// 1,000 can be benchmarked.
const MAX_MEMBERS = 10000;
const MAX_TITLE_CHARS = 100;
const MAX_HISTORY_LIMIT = 200;
const MAX_MESSAGE_BYTES = 65536;
const MIN_CIPHERTEXT_BYTES = 16; // an AES-GCM tag
const MAX_WRAPPED_BYTES = 1024;
const MAX_KDF_ITERATIONS = 10000000;
const TOKEN_TTL_SECS = 7 * 24 * 3600;
const BODY_LIMIT_BYTES = 8 * 1024 * 1024;

const USAGE =
  'usage: node server.js --port PORT --db FILE [--synchronous FULL|NORMAL] ' +
  '[--secret S] [--host 127.0.0.1]';

// ---------------------------------------------------------------- command line

function usageError(text) {
  process.stderr.write(`peer: ${text}\n${USAGE}\n`);
  process.exit(2);
}

function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        db: { type: 'string' },
        synchronous: { type: 'string', default: 'FULL' },
        secret: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    usageError(e.message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (v.port === undefined) usageError('--port is required (0 picks a free port)');
  if (!/^\d{1,5}$/.test(v.port) || Number(v.port) > 65535) {
    usageError(`--port: expected 0 to 65535, got ${JSON.stringify(v.port)}`);
  }
  if (v.db === undefined || v.db === '') usageError('--db is required');
  const synchronous = v.synchronous.toUpperCase();
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    usageError(`--synchronous: expected FULL or NORMAL, got ${JSON.stringify(v.synchronous)}`);
  }
  if (v.secret !== undefined && v.secret.length === 0) usageError('--secret: must not be empty');
  if (v.host === '') usageError('--host: must not be empty');
  return {
    port: Number(v.port),
    db: v.db,
    synchronous,
    // Without --secret, tokens last only as long as this process.
    secret: v.secret !== undefined ? Buffer.from(v.secret, 'utf8') : crypto.randomBytes(32),
    host: v.host,
  };
}

// ---------------------------------------------------------------- errors

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const invalid = (field, problem) => new ApiError(400, 'invalid_request', `${field}: ${problem}`);
const encoding = (field, expected) =>
  new ApiError(400, 'invalid_encoding', `${field}: expected ${expected}`);
const unauthorized = () => new ApiError(401, 'unauthorized', 'Sign in again.');
const notAMember = () =>
  new ApiError(403, 'not_a_member', 'You are not a member of that conversation.');

// ---------------------------------------------------------------- field checks

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const B64URL = /^[A-Za-z0-9_-]*$/;
const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

function field(body, name) {
  if (body[name] === undefined) throw invalid(name, 'missing field');
  return body[name];
}

function string(value, name) {
  if (typeof value !== 'string') throw invalid(name, 'expected a string');
  return value;
}

function id(value, name) {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw invalid(name, 'expected a lowercase hyphenated UUID');
  }
  return value;
}

// A non-negative integer no larger than `max`.
function integer(value, name, max) {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw invalid(name, `expected an integer from 0 to ${max}`);
  }
  return value;
}

// Canonical base64url without padding: decoding and encoding again gives the
// same text (no `=`, no stray characters, no non-zero trailing bits).
function unb64(text) {
  if (typeof text !== 'string' || !B64URL.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

// `len` exact bytes, or (without `len`) 1 to `max` bytes.
function bytes(value, name, len, max) {
  const expected =
    len !== undefined
      ? `${len} bytes of base64url without padding`
      : `at most ${max} bytes of base64url without padding`;
  if (typeof value !== 'string') throw invalid(name, 'expected a base64url string');
  const b = unb64(value);
  if (b === null) throw encoding(name, expected);
  const fits = len !== undefined ? b.length === len : b.length >= 1 && b.length <= max;
  if (!fits) throw encoding(name, expected);
  return b;
}

// A raw P-256 public key: 65 bytes, 0x04 first, on the curve.
function publicKey(value, name) {
  const b = bytes(value, name, 65);
  const expected = 'an uncompressed P-256 point (65 bytes, 0x04 first)';
  if (b[0] !== 0x04) throw encoding(name, expected);
  try {
    crypto.ECDH.convertKey(b, 'prime256v1');
  } catch {
    throw encoding(name, expected);
  }
  return b;
}

function canonicalUsername(value) {
  if (typeof value !== 'string') throw invalid('username', 'expected a string');
  if (!USERNAME.test(value)) {
    throw invalid('username', 'use 3 to 32 of the letters a–z, digits, and _ . -');
  }
  return value.toLowerCase();
}

// ---------------------------------------------------------------- ids, times, tokens

// A time-ordered UUID (v7): 48 bits of Unix milliseconds, then random bits.
function uuidv7() {
  const b = crypto.randomBytes(16);
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// RFC 3339 UTC with milliseconds: 2026-11-26T01:02:03.456Z.
const now = () => new Date().toISOString();

function issueToken(secret, userId) {
  return jwt.sign({}, secret, {
    algorithm: 'HS256',
    subject: userId,
    expiresIn: TOKEN_TTL_SECS,
  });
}

// The user a token names, or undefined.
function userForToken(store, secret, token) {
  if (typeof token !== 'string' || token.length === 0) return undefined;
  let claims;
  try {
    claims = jwt.verify(token, secret, { algorithms: ['HS256'] });
  } catch {
    return undefined;
  }
  if (typeof claims.sub !== 'string' || !ID.test(claims.sub)) return undefined;
  return store.userById(claims.sub);
}

// ---------------------------------------------------------------- the app

function buildApp(store, secret, io) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const conversationRoom = (cid) => `conversation:${cid}`;
  const userRoom = (uid) => `user:${uid}`;

  app.get('/healthz', (req, res) => {
    let ok = false;
    try {
      ok = store.ping();
    } catch (e) {
      process.stderr.write(`peer: health check: database failed: ${e.message}\n`);
    }
    if (ok) res.json({ status: 'ok', db: 'ok' });
    else res.status(503).json({ status: 'error', db: 'error' });
  });

  // Every body is JSON, whatever its Content-Type says.
  app.use('/api', express.json({ limit: BODY_LIMIT_BYTES, type: () => true }));
  app.use('/api', (req, res, next) => {
    if (req.method !== 'POST') return next(new ApiError(404, 'not_found', 'No such endpoint.'));
    if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      return next(invalid('body', 'expected a JSON object'));
    }
    next();
  });

  // The signed-in user, from `Authorization: Bearer <token>`.
  const authenticate = (req, res, next) => {
    const header = req.get('authorization') || '';
    const match = /^Bearer (.+)$/.exec(header);
    const user = match ? userForToken(store, secret, match[1]) : undefined;
    if (!user) return next(unauthorized());
    req.user = user;
    next();
  };

  app.post('/api/signup', (req, res) => {
    const body = req.body;
    const username = canonicalUsername(field(body, 'username'));
    const authKey = bytes(field(body, 'auth_key'), 'auth_key', 32);
    const kdfSalt = bytes(field(body, 'kdf_salt'), 'kdf_salt', 16);
    const kdfIterations = integer(
      field(body, 'kdf_iterations'),
      'kdf_iterations',
      MAX_KDF_ITERATIONS,
    );
    if (kdfIterations < 1) throw invalid('kdf_iterations', 'at least 1');
    const identity = field(body, 'identity');
    if (identity === null || typeof identity !== 'object' || Array.isArray(identity)) {
      throw invalid('identity', 'expected an object');
    }
    const part = (name) => {
      if (identity[name] === undefined) throw invalid(`identity.${name}`, 'missing field');
      return identity[name];
    };
    const dhPublic = publicKey(part('dh_public'), 'identity.dh_public');
    const sigPublic = publicKey(part('sig_public'), 'identity.sig_public');
    const dhPrivateWrapped = bytes(
      part('dh_private_wrapped'),
      'identity.dh_private_wrapped',
      undefined,
      MAX_WRAPPED_BYTES,
    );
    const sigPrivateWrapped = bytes(
      part('sig_private_wrapped'),
      'identity.sig_private_wrapped',
      undefined,
      MAX_WRAPPED_BYTES,
    );
    const user = {
      id: uuidv7(),
      username,
      // The peer keeps SHA-256(auth_key), hex; Hush keeps Argon2id. The peer
      // has no login, so the hash is stored only to fill the same row.
      authHash: crypto.createHash('sha256').update(authKey).digest('hex'),
      kdfSalt,
      kdfIterations,
      dhPublic,
      sigPublic,
      dhPrivateWrapped,
      sigPrivateWrapped,
      createdAt: now(),
    };
    if (!store.createUser(user)) {
      throw new ApiError(409, 'username_taken', 'That username is taken.');
    }
    res.json({
      token: issueToken(secret, user.id),
      user: { id: user.id, username: user.username },
    });
  });

  app.post('/api/users/lookup', authenticate, (req, res) => {
    const username = canonicalUsername(field(req.body, 'username'));
    const user = store.userByName(username);
    if (!user) throw new ApiError(404, 'not_found', 'No user has that name.');
    res.json({
      id: user.id,
      username: user.username,
      dh_public: user.dh_public.toString('base64url'),
      sig_public: user.sig_public.toString('base64url'),
    });
  });

  app.post('/api/conversations/create', authenticate, (req, res) => {
    const body = req.body;
    const creator = req.user.id;
    const conversationId = id(field(body, 'conversation_id'), 'conversation_id');

    let title = body.title === undefined ? null : body.title;
    if (title !== null) {
      title = string(title, 'title').trim();
      if (title === '') title = null;
    }
    if (
      title !== null &&
      ([...title].length > MAX_TITLE_CHARS || /\p{Cc}/u.test(title))
    ) {
      throw invalid('title', `at most ${MAX_TITLE_CHARS} characters, no control characters`);
    }

    const memberIds = field(body, 'member_ids');
    if (!Array.isArray(memberIds)) throw invalid('member_ids', 'expected an array');
    memberIds.forEach((m, i) => id(m, `member_ids[${i}]`));
    const members = new Set(memberIds);
    if (members.size !== memberIds.length) throw invalid('member_ids', 'a member is named twice');
    if (!members.has(creator)) throw invalid('member_ids', 'must include you');
    if (members.size < 2) throw invalid('member_ids', 'name at least one other member');
    if (members.size > MAX_MEMBERS) throw invalid('member_ids', `at most ${MAX_MEMBERS} members`);

    const epoch = integer(field(body, 'epoch'), 'epoch', 0xffffffff);
    if (epoch !== 0) throw invalid('epoch', 'a new conversation starts at epoch 0');

    const keysIn = field(body, 'keys');
    if (!Array.isArray(keysIn)) throw invalid('keys', 'expected an array');
    const covered = new Set();
    const keys = keysIn.map((k, i) => {
      if (k === null || typeof k !== 'object' || Array.isArray(k)) {
        throw invalid(`keys[${i}]`, 'expected an object');
      }
      const memberId = id(k.member_id, `keys[${i}].member_id`);
      if (!members.has(memberId) || covered.has(memberId)) {
        throw invalid(`keys[${i}].member_id`, "each member's key exactly once, for members only");
      }
      covered.add(memberId);
      const wrappedKey = bytes(k.wrapped_key, `keys[${i}].wrapped_key`, undefined, MAX_WRAPPED_BYTES);
      return { memberId, wrappedKey };
    });
    if (covered.size !== members.size) throw invalid('keys', 'a key is missing for a member');
    const commit = bytes(field(body, 'commit'), 'commit', 32);
    const keysSignature = bytes(field(body, 'keys_signature'), 'keys_signature', 64);

    const unknown = store.firstUnknownUser(memberIds);
    if (unknown >= 0) {
      throw new ApiError(
        404,
        'not_found',
        `member_ids[${unknown}]: no user has the id ${memberIds[unknown]}`,
      );
    }

    const outcome = store.createConversation({
      id: conversationId,
      title,
      createdBy: creator,
      createdAt: now(),
      memberIds,
      commit,
      keys,
      keysSignature,
    });
    if (outcome.conflict) {
      throw new ApiError(409, 'id_conflict', 'conversation_id: that id is taken');
    }
    if (outcome.repeat) return res.json(outcome.repeat);

    // Committed: every member's live sockets join the room, then each
    // member hears of it.
    const conversation = outcome.created;
    const userRooms = conversation.members.map((m) => userRoom(m.id));
    io.in(userRooms).socketsJoin(conversationRoom(conversation.id));
    io.to(userRooms).emit('conversation-added', conversation);
    res.json(conversation);
  });

  app.post('/api/conversations/list', authenticate, (req, res) => {
    res.json({ conversations: store.conversationsOf(req.user.id) });
  });

  app.post('/api/messages/send', authenticate, (req, res) => {
    const body = req.body;
    const conversationId = id(field(body, 'conversation_id'), 'conversation_id');
    const messageId = id(field(body, 'message_id'), 'message_id');
    const epoch = integer(field(body, 'epoch'), 'epoch', 0xffffffff);
    const ciphertextText = field(body, 'ciphertext');
    if (typeof ciphertextText !== 'string') throw invalid('ciphertext', 'expected a base64url string');
    const ciphertext = unb64(ciphertextText);
    if (ciphertext === null) throw encoding('ciphertext', 'base64url without padding');
    if (ciphertext.length > MAX_MESSAGE_BYTES) {
      throw new ApiError(413, 'message_too_large', `ciphertext: at most ${MAX_MESSAGE_BYTES} bytes`);
    }
    if (ciphertext.length < MIN_CIPHERTEXT_BYTES) {
      throw encoding('ciphertext', `at least ${MIN_CIPHERTEXT_BYTES} bytes (the tag)`);
    }
    const nonce = bytes(field(body, 'nonce'), 'nonce', 12);
    const signature = bytes(field(body, 'signature'), 'signature', 64);

    const outcome = store.appendMessage({
      id: messageId,
      conversationId,
      senderId: req.user.id,
      sender: req.user.username,
      epoch,
      nonce,
      ciphertext,
      signature,
      createdAt: now(),
    });
    switch (outcome.refusal) {
      case undefined:
        break;
      case 'not_a_member':
        throw notAMember();
      case 'stale_epoch':
        throw new ApiError(400, 'stale_epoch', `epoch: the conversation is at epoch ${outcome.current}`);
      case 'id_conflict':
        throw new ApiError(409, 'id_conflict', 'message_id: that id belongs to another message');
      default:
        throw new Error(`unknown refusal ${outcome.refusal}`);
    }
    const message = outcome.stored || outcome.repeat;
    // Committed (the transaction has returned): push a new message only.
    if (outcome.stored) io.to(conversationRoom(conversationId)).emit('new-message', message);
    res.json({ seq: message.seq, created_at: message.created_at });
  });

  app.post('/api/messages/history', authenticate, (req, res) => {
    const body = req.body;
    const conversationId = id(field(body, 'conversation_id'), 'conversation_id');
    const bound = (name) =>
      body[name] === undefined || body[name] === null
        ? undefined
        : integer(body[name], name, Number.MAX_SAFE_INTEGER);
    const beforeSeq = bound('before_seq');
    const afterSeq = bound('after_seq');
    const limit = field(body, 'limit');
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
      throw invalid('limit', `from 1 to ${MAX_HISTORY_LIMIT}`);
    }
    if (!store.isMember(conversationId, req.user.id)) throw notAMember();
    res.json({ messages: store.history(conversationId, { beforeSeq, afterSeq, limit }) });
  });

  app.use((req, res, next) => next(new ApiError(404, 'not_found', 'No such endpoint.')));

  // Every error answers `{"error": "<code>", "message": "..."}`.
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    if (err instanceof ApiError) {
      return res.status(err.status).json({ error: err.code, message: err.message });
    }
    if (err && err.type === 'entity.parse.failed') {
      return res.status(400).json({ error: 'invalid_request', message: 'body: not valid JSON' });
    }
    if (err && err.type === 'entity.too.large') {
      return res
        .status(413)
        .json({ error: 'message_too_large', message: 'body: at most 8 MiB' });
    }
    if (err && typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      return res.status(err.status).json({ error: 'invalid_request', message: 'body: unreadable' });
    }
    process.stderr.write(`peer: internal error on ${req.path}: ${err && err.stack}\n`);
    res.status(500).json({ error: 'internal', message: 'Something went wrong on the server.' });
  });

  return app;
}

// ---------------------------------------------------------------- sockets

function attachSockets(io, store, secret) {
  // No socket is admitted without a valid token.
  io.use((socket, next) => {
    const auth = socket.handshake.auth || {};
    const user = userForToken(store, secret, auth.token);
    if (!user) return next(new Error('unauthorized'));
    socket.data.userId = user.id;
    next();
  });

  io.on('connection', (socket) => {
    const userId = socket.data.userId;
    // One synchronous step: the user's room and every conversation's room,
    // so no conversation created meanwhile can fall between the two.
    socket.join([
      `user:${userId}`,
      ...store.conversationIdsOf(userId).map((cid) => `conversation:${cid}`),
    ]);

    socket.on('join-conversation', (cid, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (typeof cid !== 'string' || !ID.test(cid)) return reply({ error: 'invalid_request' });
      if (!store.isMember(cid, userId)) return reply({ error: 'not_a_member' });
      socket.join(`conversation:${cid}`);
      reply({ ok: true });
    });

    socket.on('leave-conversation', (cid, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (typeof cid !== 'string' || !ID.test(cid)) return reply({ error: 'invalid_request' });
      socket.leave(`conversation:${cid}`);
      reply({ ok: true });
    });
  });
}

// ---------------------------------------------------------------- main

function main() {
  const options = parseCommandLine(process.argv.slice(2));

  let store;
  try {
    store = new Store(options.db, options.synchronous);
  } catch (e) {
    process.stderr.write(`peer: cannot open the database ${options.db}: ${e.message}\n`);
    process.exit(1);
  }

  const httpServer = http.createServer();
  // Outlast the idle time of a client's connection pool, so a pooled
  // connection is not closed under a request (hyper's server has no idle
  // timeout either).
  httpServer.keepAliveTimeout = 120 * 1000;
  httpServer.headersTimeout = 121 * 1000;

  const io = new Server(httpServer, { path: '/socket.io/', serveClient: false });
  const app = buildApp(store, options.secret, io);
  httpServer.on('request', app);
  attachSockets(io, store, options.secret);

  httpServer.on('error', (e) => {
    process.stderr.write(`peer: cannot listen on ${options.host}:${options.port}: ${e.message}\n`);
    store.close();
    process.exit(1);
  });

  httpServer.listen(options.port, options.host, () => {
    const { port } = httpServer.address();
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    process.stdout.write(`peer listening on http://${host}:${port}\n`);
    process.stderr.write(`${store.settings()}\n`);
  });

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    // Close every socket and stop accepting; requests in flight finish.
    io.close(() => {
      store.close();
      process.exit(0);
    });
    httpServer.closeIdleConnections();
    // A keep-alive connection that lingers past this is cut.
    setTimeout(() => httpServer.closeAllConnections(), 5000).unref();
    process.stderr.write(`peer: ${signal}, stopping\n`);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main();
