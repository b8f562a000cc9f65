// Smoke test of the peer (server.js): starts it on port 0 with a fresh
// database in a temporary folder and walks the parts of Hush's wire contract
// that the benchmark uses, over HTTP and the official socket.io-client. Each
// step prints `ok <step>`; the first failure prints `FAIL <step>: <why>`,
// stops the server and exits 1. The last line is `smoke: N passed, N failed`.
//
//   node smoke.mjs

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

import { io as connect } from 'socket.io-client';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MIGRATIONS = path.resolve(HERE, '../../../migrations/sqlite');
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SECRET = 'smoke-secret';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-peer-smoke-'));
const dbPath = path.join(tmp, 'peer.db');
const sockets = [];
let server = null; // { child, base, exited }
let step = '(start)';
let passed = 0;

// ---------------------------------------------------------------- helpers

class Failure extends Error {}

function expect(condition, what) {
  if (!condition) throw new Failure(what);
}

function same(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  expect(a === e, `${what}: expected ${e}, got ${a}`);
}

async function check(name, body) {
  step = name;
  await body();
  passed += 1;
  console.log(`ok   ${name}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(condition, what, ms = 3000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Failure(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
const random = (n) => b64(crypto.randomBytes(n));

// A UUID v7 made here, as a client's browser makes its ids.
function uuidv7() {
  const b = crypto.randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// A real P-256 public key, raw and uncompressed (65 bytes, 0x04 first).
function publicKey() {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  return b64(ecdh.getPublicKey(null, 'uncompressed'));
}

// Starts the peer; resolves once it prints its address and settings.
function startServer(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(HERE, 'server.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const s = { child, base: null, settings: null, stdout: '', stderr: '', exited: null };
    s.exitedPromise = new Promise((r) =>
      child.on('exit', (code, signal) => {
        s.exited = { code, signal };
        r(s.exited);
      }),
    );
    const timer = setTimeout(() => reject(new Failure(`no ready line in 15 s; stderr: ${s.stderr}`)), 15000);
    const ready = () => {
      if (s.base && s.settings) {
        clearTimeout(timer);
        resolve(s);
      }
    };
    child.stdout.on('data', (d) => {
      s.stdout += d;
      const m = /peer listening on (http:\/\/[^\s]+)\n/.exec(s.stdout);
      if (m) s.base = m[1];
      ready();
    });
    child.stderr.on('data', (d) => {
      s.stderr += d;
      const m = /^(journal_mode .*)$/m.exec(s.stderr);
      if (m) s.settings = m[1];
      ready();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Failure(`server exited early with ${code}; stderr: ${s.stderr}`));
    });
  });
}

async function stopServer(s) {
  s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), 5000);
  const exited = await s.exitedPromise;
  clearTimeout(t);
  return exited;
}

async function post(endpoint, body, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${server.base}${endpoint}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Failure(`${endpoint} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, json, text };
}

async function ok(endpoint, body, token) {
  const r = await post(endpoint, body, token);
  expect(r.status === 200, `${endpoint}: expected 200, got ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

async function refused(endpoint, body, token, status, code) {
  const r = await post(endpoint, body, token);
  expect(
    r.status === status && r.json.error === code && typeof r.json.message === 'string',
    `${endpoint}: expected ${status} ${code}, got ${r.status} ${r.text.slice(0, 300)}`,
  );
  return r;
}

// A connected socket with every event it receives recorded, or the error.
function socket(token) {
  return new Promise((resolve, reject) => {
    const s = connect(server.base, {
      path: '/socket.io/',
      auth: token === undefined ? {} : { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    sockets.push(s);
    s.events = { 'new-message': [], 'conversation-added': [] };
    for (const name of Object.keys(s.events)) {
      s.on(name, (payload) => s.events[name].push(payload));
    }
    const timer = setTimeout(() => reject(new Failure('socket: no connect in 5 s')), 5000);
    s.on('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.on('connect_error', (e) => {
      clearTimeout(timer);
      s.close();
      reject(e);
    });
  });
}

async function refusedSocket(token) {
  try {
    await socket(token);
  } catch (e) {
    if (e instanceof Failure) throw e;
    return e.message;
  }
  throw new Failure('the socket was admitted');
}

function ack(s, event, arg) {
  return s.timeout(3000).emitWithAck(event, arg);
}

function cleanup() {
  for (const s of sockets) s.close();
  if (server && !server.exited) server.child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}

// The schema as SQLite keeps it: every table and index, whitespace and
// comments dropped, so the peer's can be compared with Hush's migrations.
function schemaOf(db) {
  const norm = (sql) =>
    sql
      .replace(/--[^\n]*/g, '')
      .replace(/\s+/g, ' ')
      .replace(/\s*([(),])\s*/g, '$1')
      .trim();
  return db
    .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY type, name")
    .all()
    .map((r) => `${r.type} ${r.name}: ${norm(r.sql)}`);
}

// ---------------------------------------------------------------- the walk

async function run() {
  await check('bad arguments exit 2', async () => {
    for (const args of [['--port', 'abc', '--db', dbPath], ['--db', dbPath], ['--port', '0', '--db', dbPath, '--synchronous', 'OFF']]) {
      const child = spawn(process.execPath, [path.join(HERE, 'server.js'), ...args], { stdio: 'ignore' });
      const code = await new Promise((r) => child.on('exit', r));
      expect(code === 2, `${args.join(' ')}: expected exit 2, got ${code}`);
    }
  });

  await check('the server starts on port 0 with WAL and synchronous FULL', async () => {
    server = await startServer(['--port', '0', '--db', dbPath, '--secret', SECRET]);
    expect(/^http:\/\/127\.0\.0\.1:\d+$/.test(server.base), `address line: ${server.base}`);
    expect(!server.base.endsWith(':0'), 'port 0 was not replaced by a real port');
    same(server.settings, 'journal_mode wal, synchronous FULL', 'settings line');
  });

  await check('GET /healthz', async () => {
    const res = await fetch(`${server.base}/healthz`);
    const text = await res.text();
    expect(res.status === 200, `status ${res.status}`);
    same(text, '{"status":"ok","db":"ok"}', 'body');
  });

  const signupBody = (username) => ({
    username,
    auth_key: random(32),
    kdf_salt: random(16),
    kdf_iterations: 600000,
    identity: {
      dh_public: publicKey(),
      sig_public: publicKey(),
      dh_private_wrapped: random(166),
      sig_private_wrapped: random(166),
    },
  });
  const users = {};

  await check('signup of 3 users, names canonical, ids UUID v7, HS256 tokens for 7 days', async () => {
    for (const [key, name, canonical] of [
      ['alice', 'Alice_Smoke', 'alice_smoke'],
      ['bob', 'bob.smoke', 'bob.smoke'],
      ['carol', 'carol-smoke', 'carol-smoke'],
    ]) {
      const body = signupBody(name);
      const { json } = await ok('/api/signup', body);
      same(Object.keys(json), ['token', 'user'], 'answer keys');
      same(Object.keys(json.user), ['id', 'username'], 'user keys');
      same(json.user.username, canonical, 'username');
      expect(V7.test(json.user.id), `id is not a lowercase UUID v7: ${json.user.id}`);
      const [header, claims] = json.token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));
      same(header.alg, 'HS256', 'token alg');
      same(claims.sub, json.user.id, 'token sub');
      same(claims.exp - claims.iat, 7 * 24 * 3600, 'token lifetime');
      users[key] = { ...json.user, token: json.token, identity: body.identity };
    }
  });
  const { alice, bob, carol } = users;

  await check('the same name again (in another case) is 409 username_taken', async () => {
    await refused('/api/signup', signupBody('ALICE_SMOKE'), undefined, 409, 'username_taken');
  });

  await check('no token and a bad token are 401 unauthorized', async () => {
    await refused('/api/users/lookup', { username: 'bob.smoke' }, undefined, 401, 'unauthorized');
    await refused('/api/users/lookup', { username: 'bob.smoke' }, `${alice.token}x`, 401, 'unauthorized');
    await refused('/api/conversations/list', {}, 'not-a-jwt', 401, 'unauthorized');
  });

  await check('a socket with a bad token or none gets connect_error "unauthorized"', async () => {
    same(await refusedSocket('nope'), 'unauthorized', 'connect_error message (bad token)');
    same(await refusedSocket(undefined), 'unauthorized', 'connect_error message (no token)');
  });

  await check('lookup in any case; an unknown name is 404 not_found', async () => {
    const { json } = await ok('/api/users/lookup', { username: 'BOB.Smoke' }, alice.token);
    same(json, {
      id: bob.id,
      username: 'bob.smoke',
      dh_public: bob.identity.dh_public,
      sig_public: bob.identity.sig_public,
    }, 'lookup answer');
    await refused('/api/users/lookup', { username: 'nobody_here' }, alice.token, 404, 'not_found');
  });

  const aliceSock = await socket(alice.token);
  const carolSock = await socket(carol.token);
  const cid = uuidv7();
  const createBody = {
    conversation_id: cid,
    title: '  Book club  ',
    member_ids: [alice.id, bob.id],
    epoch: 0,
    commit: random(32),
    keys: [
      { member_id: bob.id, wrapped_key: random(125) },
      { member_id: alice.id, wrapped_key: random(125) },
    ],
    keys_signature: random(64),
  };
  let conversation;
  let conversationText;

  await check('create a 2-member conversation; an online member gets conversation-added, identical', async () => {
    const r = await ok('/api/conversations/create', createBody, alice.token);
    conversation = r.json;
    conversationText = r.text;
    const byName = [alice, bob].sort((a, b) => (a.username < b.username ? -1 : 1));
    const keys = [...createBody.keys].sort((a, b) => (a.member_id < b.member_id ? -1 : 1));
    expect(TIME.test(conversation.created_at), `created_at: ${conversation.created_at}`);
    same(conversation, {
      id: cid,
      title: 'Book club',
      created_by: alice.id,
      created_at: conversation.created_at,
      last_seq: 0,
      members: byName.map((u) => ({ id: u.id, username: u.username, dh_public: u.identity.dh_public, sig_public: u.identity.sig_public })),
      epochs: [{
        epoch: 0,
        signer_id: alice.id,
        commit: createBody.commit,
        members: [alice, bob]
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((u) => ({ id: u.id, username: u.username, dh_public: u.identity.dh_public, sig_public: u.identity.sig_public })),
        keys,
        keys_signature: createBody.keys_signature,
      }],
    }, 'conversation');
    await until(() => aliceSock.events['conversation-added'].length === 1, 'conversation-added');
    same(JSON.stringify(aliceSock.events['conversation-added'][0]), conversationText, 'conversation-added payload');
  });

  await check('the same create again answers the stored conversation, with no second event', async () => {
    const r = await ok('/api/conversations/create', createBody, alice.token);
    same(r.text, conversationText, 'repeated create');
  });

  await check('a blank title is null', async () => {
    const r = await ok('/api/conversations/create', {
      ...createBody,
      conversation_id: uuidv7(),
      title: '   ',
      member_ids: [carol.id, bob.id],
      commit: random(32),
      keys: [{ member_id: bob.id, wrapped_key: random(125) }, { member_id: carol.id, wrapped_key: random(125) }],
    }, carol.token);
    same(r.json.title, null, 'title');
  });

  await check('list', async () => {
    const { json } = await ok('/api/conversations/list', {}, alice.token);
    same(json, { conversations: [conversation] }, "alice's list");
  });

  await check('the id reused by someone else is 409 id_conflict', async () => {
    await refused('/api/conversations/create', {
      ...createBody,
      member_ids: [carol.id, bob.id],
      commit: random(32),
      keys: [{ member_id: bob.id, wrapped_key: random(125) }, { member_id: carol.id, wrapped_key: random(125) }],
    }, carol.token, 409, 'id_conflict');
  });

  await check('join-conversation: a non-member gets not_a_member, a member ok', async () => {
    same(await ack(carolSock, 'join-conversation', cid), { error: 'not_a_member' }, "carol's ack");
    same(await ack(aliceSock, 'join-conversation', cid), { ok: true }, "alice's ack");
    same(await ack(aliceSock, 'join-conversation', 'not-an-id'), { error: 'invalid_request' }, 'ack for a bad id');
  });

  // Bob connects only now: he must be in the room from the connect on.
  const bobSock = await socket(bob.token);
  const sendBody = (over = {}) => ({
    conversation_id: cid,
    message_id: uuidv7(),
    epoch: 0,
    nonce: random(12),
    ciphertext: random(100),
    signature: random(64),
    ...over,
  });
  const first = sendBody();
  let firstSent;

  await check('send: seq 1, and every member socket gets new-message byte for byte', async () => {
    const { json } = await ok('/api/messages/send', first, alice.token);
    same(Object.keys(json), ['seq', 'created_at'], 'answer keys');
    same(json.seq, 1, 'seq');
    expect(TIME.test(json.created_at), `created_at: ${json.created_at}`);
    firstSent = json;
    const expected = JSON.stringify({
      id: first.message_id,
      conversation_id: cid,
      seq: 1,
      sender_id: alice.id,
      sender: 'alice_smoke',
      epoch: 0,
      nonce: first.nonce,
      ciphertext: first.ciphertext,
      signature: first.signature,
      created_at: json.created_at,
    });
    await until(() => aliceSock.events['new-message'].length >= 1, "alice's new-message");
    await until(() => bobSock.events['new-message'].length >= 1, "bob's new-message (connected after the create)");
    same(JSON.stringify(aliceSock.events['new-message'][0]), expected, "alice's new-message");
    same(JSON.stringify(bobSock.events['new-message'][0]), expected, "bob's new-message");
  });

  await check('a repeated send answers the same seq and created_at; one event per member, none for others', async () => {
    const { json } = await ok('/api/messages/send', first, alice.token);
    same(json, firstSent, 'repeated send');
    await sleep(300);
    same(aliceSock.events['new-message'].length, 1, "alice's new-message count");
    same(bobSock.events['new-message'].length, 1, "bob's new-message count");
    same(carolSock.events['new-message'].length, 0, "carol's new-message count");
    same(aliceSock.events['conversation-added'].length, 1, "alice's conversation-added count");
    same(carolSock.events['conversation-added'].length, 1, "carol's conversation-added count");
  });

  await check('the same id with other bytes, from another sender or in another conversation is 409 id_conflict', async () => {
    await refused('/api/messages/send', { ...first, ciphertext: random(100) }, alice.token, 409, 'id_conflict');
    await refused('/api/messages/send', { ...first, nonce: random(12) }, alice.token, 409, 'id_conflict');
    await refused('/api/messages/send', first, bob.token, 409, 'id_conflict');
    const other = uuidv7();
    await ok('/api/conversations/create', {
      ...createBody,
      conversation_id: other,
      member_ids: [alice.id, carol.id],
      commit: random(32),
      keys: [{ member_id: alice.id, wrapped_key: random(125) }, { member_id: carol.id, wrapped_key: random(125) }],
    }, alice.token);
    await refused('/api/messages/send', { ...first, conversation_id: other }, alice.token, 409, 'id_conflict');
  });

  await check('a non-member send, or to an unknown conversation, is 403 not_a_member', async () => {
    await refused('/api/messages/send', sendBody(), carol.token, 403, 'not_a_member');
    await refused('/api/messages/send', sendBody({ conversation_id: uuidv7() }), alice.token, 403, 'not_a_member');
  });

  await check('another epoch is 400 stale_epoch', async () => {
    await refused('/api/messages/send', sendBody({ epoch: 1 }), alice.token, 400, 'stale_epoch');
  });

  await check('65,537 bytes of ciphertext is 413 message_too_large', async () => {
    await refused('/api/messages/send', sendBody({ ciphertext: random(65537) }), alice.token, 413, 'message_too_large');
  });

  await check('padded or sloppy base64 is 400 invalid_encoding', async () => {
    const padded = Buffer.from(crypto.randomBytes(17)).toString('base64');
    expect(padded.endsWith('='), 'test data is not padded');
    await refused('/api/messages/send', sendBody({ ciphertext: padded.replace(/\+/g, '-').replace(/\//g, '_') }), alice.token, 400, 'invalid_encoding');
    await refused('/api/messages/send', sendBody({ nonce: `${random(12)}=` }), alice.token, 400, 'invalid_encoding');
    await refused('/api/messages/send', sendBody({ signature: random(63) }), alice.token, 400, 'invalid_encoding');
    await refused('/api/messages/send', sendBody({ ciphertext: random(15) }), alice.token, 400, 'invalid_encoding');
    // A stray '+' (standard base64, not base64url) and non-zero trailing bits
    // (64 bytes leave 4 spare bits in the last of 86 characters).
    const plus = random(30);
    await refused('/api/messages/send', sendBody({ ciphertext: `+${plus.slice(1)}` }), alice.token, 400, 'invalid_encoding');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const signature = random(64);
    const last = alphabet.indexOf(signature[85]);
    const sloppy = signature.slice(0, 85) + alphabet[(last & 0x30) | 0x01];
    expect(Buffer.from(sloppy, 'base64url').length === 64, 'test data: the sloppy signature decodes to 64 bytes');
    await refused('/api/messages/send', sendBody({ signature: sloppy }), alice.token, 400, 'invalid_encoding');
  });

  // Four more messages, from both members: seqs 2 to 5.
  const sent = [{ ...first, ...firstSent, sender: alice }];
  for (const sender of [bob, alice, bob, alice]) {
    const body = sendBody();
    const { json } = await ok('/api/messages/send', body, sender.token);
    sent.push({ ...body, ...json, sender });
  }
  const wire = (m) => ({
    id: m.message_id,
    conversation_id: cid,
    seq: m.seq,
    sender_id: m.sender.id,
    sender: m.sender.username,
    epoch: 0,
    nonce: m.nonce,
    ciphertext: m.ciphertext,
    signature: m.signature,
    created_at: m.created_at,
  });

  await check('seq is gap-free and every push arrived in order', async () => {
    same(sent.map((m) => m.seq), [1, 2, 3, 4, 5], 'seqs');
    await until(() => bobSock.events['new-message'].length === 5, "bob's 5 pushes");
    await until(() => aliceSock.events['new-message'].length === 5, "alice's 5 pushes");
    same(bobSock.events['new-message'], sent.map(wire), "bob's pushes");
    same(aliceSock.events['new-message'], sent.map(wire), "alice's pushes");
  });

  const history = (over, token = bob.token) =>
    post('/api/messages/history', { conversation_id: cid, limit: 50, ...over }, token);

  await check('history: newest page, after_seq, before_seq, limit 1', async () => {
    same((await history({ limit: 3 })).json, { messages: sent.slice(2).map(wire) }, 'newest 3');
    same((await history({ after_seq: 1, limit: 2 })).json, { messages: sent.slice(1, 3).map(wire) }, 'after_seq 1, limit 2');
    same((await history({ before_seq: 3 })).json, { messages: sent.slice(0, 2).map(wire) }, 'before_seq 3');
    same((await history({ after_seq: 1, before_seq: 4 })).json, { messages: sent.slice(1, 3).map(wire) }, 'after_seq 1, before_seq 4');
    same((await history({ limit: 1 })).json, { messages: [wire(sent[4])] }, 'limit 1');
    same((await history({ after_seq: 5 })).json, { messages: [] }, 'after the end');
  });

  await check('history: 403 for a non-member, 400 invalid_request for limit 0 and 201', async () => {
    await refused('/api/messages/history', { conversation_id: cid, limit: 10 }, carol.token, 403, 'not_a_member');
    const zero = await refused('/api/messages/history', { conversation_id: cid, limit: 0 }, bob.token, 400, 'invalid_request');
    expect(zero.json.message.startsWith('limit'), `the message names limit: ${zero.json.message}`);
    await refused('/api/messages/history', { conversation_id: cid, limit: 201 }, bob.token, 400, 'invalid_request');
  });

  await check('list: last_seq, most recently active first', async () => {
    const { json } = await ok('/api/conversations/list', {}, alice.token);
    same(json.conversations.map((c) => [c.id, c.last_seq]), [[cid, 5], [json.conversations[1].id, 0]], 'ids and last_seq');
  });

  await check('SIGTERM ends the server with exit code 0', async () => {
    const exited = await stopServer(server);
    same(exited, { code: 0, signal: null }, 'exit');
    await until(() => !bobSock.connected, 'sockets closed by the server');
  });

  await check("the peer's tables are Hush's (migrations/sqlite)", async () => {
    const hush = new Database(':memory:');
    for (const file of fs.readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort()) {
      hush.exec(fs.readFileSync(path.join(MIGRATIONS, file), 'utf8'));
    }
    const peer = new Database(dbPath, { readonly: true });
    const a = schemaOf(peer);
    const b = schemaOf(hush);
    peer.close();
    hush.close();
    expect(b.length > 0, `no schema read from ${MIGRATIONS}`);
    const missing = b.filter((x) => !a.includes(x));
    const extra = a.filter((x) => !b.includes(x));
    expect(
      missing.length === 0 && extra.length === 0,
      `schema differs; Hush has ${JSON.stringify(missing)}; the peer has ${JSON.stringify(extra)}`,
    );
  });

  await check('a restart with the same --secret keeps tokens and data (synchronous NORMAL)', async () => {
    server = await startServer(['--port', '0', '--db', dbPath, '--secret', SECRET, '--synchronous', 'NORMAL']);
    same(server.settings, 'journal_mode wal, synchronous NORMAL', 'settings line');
    const { json } = await ok('/api/conversations/list', {}, alice.token);
    same(json.conversations[0].last_seq, 5, 'last_seq after restart');
    const s = await socket(bob.token);
    s.close();
    same((await stopServer(server)).code, 0, 'exit code');
  });
}

try {
  await run();
  console.log(`smoke: ${passed} passed, 0 failed`);
  cleanup();
  process.exit(0);
} catch (e) {
  const why = e instanceof Failure ? e.message : e.stack || String(e);
  console.error(`FAIL ${step}: ${why}`);
  if (server && server.stderr) console.error(`server stderr:\n${server.stderr}`);
  console.log(`smoke: ${passed} passed, 1 failed`);
  cleanup();
  process.exit(1);
}
