// The Socket.IO side of the wire contract, driven by the official
// `socket.io-client` from npm (Node only, no browser): the handshake refuses
// a socket without a valid token (`connect_error` "unauthorized", never
// `connect`); `join-conversation` / `leave-conversation` answer the agreed
// acks and admit members only; a socket connected before a conversation
// existed joins its room at once and hears `conversation-added`; a socket
// connected afterwards is in the room without any join; `new-message`
// carries exactly the stored message, the same bytes that were sent, to the
// members' sockets only, once each. Accounts and messages are made over
// HTTP exactly as a browser would (suite hush-v1 step 1 for `auth_key`,
// real P-256 public keys); the content crypto is the browsers' business, so
// wrapped keys, ciphertexts and signatures are random bytes of the right size.
import { createHash, generateKeyPairSync, hkdfSync, pbkdf2, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { expect, test, type APIRequestContext } from "./guard";
import { io, type Socket } from "socket.io-client";
import { b64, random, uuidV7 } from "./wire";

const password = "correct horse battery staple";
const kdfIterations = 600_000;
const pbkdf2Async = promisify(pbkdf2);

type User = { id: string; username: string };
type Account = { token: string; user: User };
type Sent = { seq: number; created_at: string };
type Message = {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  sender: string;
  epoch: number;
  nonce: string;
  ciphertext: string;
  signature: string;
  created_at: string;
};
type Conversation = {
  id: string;
  title: string | null;
  created_by: string;
  last_seq: number;
  members: { id: string; username: string; dh_public: string; sig_public: string }[];
  epochs: {
    epoch: number;
    signer_id: string;
    commit: string;
    members: { id: string; username: string; dh_public: string; sig_public: string }[];
    keys: { member_id: string; wrapped_key: string }[];
    keys_signature: string;
  }[];
};
type RoomAck = { ok: true } | { error: string };
type Received = { event: string; payload: unknown };

const messageFields = [
  "id",
  "conversation_id",
  "seq",
  "sender_id",
  "sender",
  "epoch",
  "nonce",
  "ciphertext",
  "signature",
  "created_at",
];

/** A fresh P-256 key pair's public key, raw: 0x04 || x || y (65 bytes). */
function rawP256Public(): string {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const point = Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(jwk.x ?? "", "base64url"),
    Buffer.from(jwk.y ?? "", "base64url"),
  ]);
  expect(point.length).toBe(65);
  return b64(point);
}

/** Suite hush-v1 step 1: password and salt to `auth_key`. */
async function authKey(username: string, kdfSalt: Buffer): Promise<string> {
  const salt = createHash("sha256").update(`hush-v1|salt|${username}|`).update(kdfSalt).digest();
  const mk = await pbkdf2Async(password.normalize("NFKC"), salt, kdfIterations, 32, "sha256");
  return b64(new Uint8Array(hkdfSync("sha256", mk, Buffer.alloc(0), "hush-v1|auth", 32)));
}

/** POSTs JSON to the API, optionally as a signed-in user; expects 200. */
async function post<T>(request: APIRequestContext, path: string, body: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await request.post(path, { data: body, headers });
  const text = await res.text();
  expect(res.status(), `${path} answered ${text}`).toBe(200);
  return JSON.parse(text) as T;
}

async function signup(request: APIRequestContext, tag: string): Promise<Account> {
  const username = `c${tag}${randomBytes(5).toString("hex")}`;
  const kdfSalt = randomBytes(16);
  const account = await post<Account>(request, "/api/signup", {
    username,
    auth_key: await authKey(username, kdfSalt),
    kdf_salt: b64(kdfSalt),
    kdf_iterations: kdfIterations,
    identity: {
      dh_public: rawP256Public(),
      sig_public: rawP256Public(),
      dh_private_wrapped: random(166),
      sig_private_wrapped: random(166),
    },
  });
  expect(account.user.username).toBe(username);
  expect(account.token).toBeTruthy();
  return account;
}

/** A new, unshared connection over WebSocket that never reconnects. */
function open(baseURL: string, auth?: { token: string }): Socket {
  return io(baseURL, {
    path: "/socket.io/",
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    ...(auth ? { auth } : {}),
  });
}

/** Resolves with the first `event` on `socket` (as its first argument). */
function next<T>(socket: Socket, event: string, ms = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

async function connect(baseURL: string, token: string): Promise<Socket> {
  const socket = open(baseURL, { token });
  const refused = next<Error>(socket, "connect_error").then((e) => {
    throw new Error(`connect_error: ${e.message}`);
  });
  await Promise.race([next<void>(socket, "connect"), refused]);
  return socket;
}

/** Every event the socket receives, in order. */
function record(socket: Socket): Received[] {
  const log: Received[] = [];
  socket.onAny((event: string, ...args: unknown[]) => log.push({ event, payload: args[0] }));
  return log;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A handshake with `auth` is refused with "unauthorized" and never connects. */
async function expectRefused(baseURL: string, auth?: { token: string }) {
  const socket = open(baseURL, auth);
  let connected = false;
  socket.on("connect", () => (connected = true));
  const error = await next<Error>(socket, "connect_error");
  expect(error.message).toBe("unauthorized");
  await sleep(300);
  expect(connected).toBe(false);
  expect(socket.connected).toBe(false);
  socket.close();
}

function ack(socket: Socket, event: string, conversationId: string): Promise<RoomAck> {
  return socket.timeout(5_000).emitWithAck(event, conversationId) as Promise<RoomAck>;
}

async function send(request: APIRequestContext, token: string, conversationId: string) {
  const outgoing = {
    conversation_id: conversationId,
    message_id: uuidV7(),
    epoch: 0,
    nonce: random(12),
    ciphertext: random(40),
    signature: random(64),
  };
  const sent = await post<Sent>(request, "/api/messages/send", outgoing, token);
  return { outgoing, sent };
}

test("socket.io-client: refusals, room acks, members-only new-message", async ({ request, baseURL }) => {
  test.setTimeout(90_000);
  const url = baseURL ?? "";
  const [a, b, c] = await Promise.all([signup(request, "a"), signup(request, "b"), signup(request, "c")]);
  const sockets: Socket[] = [];

  try {
    // No token, a token that is not a JWT, a real token with a broken
    // signature: each refused before any handler, never connected.
    await expectRefused(url);
    await expectRefused(url, { token: "not-a-token" });
    const [head, claims, sig] = a.token.split(".");
    const forged = `${head}.${claims}.${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
    await expectRefused(url, { token: forged });

    // A, B and C connect before the conversation exists.
    const sa = await connect(url, a.token);
    const sb = await connect(url, b.token);
    const sc = await connect(url, c.token);
    sockets.push(sa, sb, sc);
    const logA = record(sa);
    const logB = record(sb);
    const logC = record(sc);

    // A creates a conversation with B: both live sockets hear of it.
    const conversationId = uuidV7();
    const addedToA = next<Conversation>(sa, "conversation-added");
    const addedToB = next<Conversation>(sb, "conversation-added");
    const created = await post<Conversation>(
      request,
      "/api/conversations/create",
      {
        conversation_id: conversationId,
        title: "conformance",
        member_ids: [a.user.id, b.user.id],
        epoch: 0,
        commit: random(32),
        keys: [
          { member_id: a.user.id, wrapped_key: random(125) },
          { member_id: b.user.id, wrapped_key: random(125) },
        ],
        keys_signature: random(64),
      },
      a.token,
    );
    expect(created.id).toBe(conversationId);
    for (const added of [await addedToA, await addedToB]) {
      expect(added.id).toBe(conversationId);
      expect(added.created_by).toBe(a.user.id);
      expect(added.members.map((m) => m.id).sort()).toEqual([a.user.id, b.user.id].sort());
    }

    // The first message reaches A's and B's sockets, exactly as stored.
    const firstToA = next<Message>(sa, "new-message");
    const firstToB = next<Message>(sb, "new-message");
    const first = await send(request, a.token, conversationId);
    expect(first.sent.seq).toBe(1);
    expect(first.sent.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const expected: Message = {
      id: first.outgoing.message_id,
      conversation_id: conversationId,
      seq: 1,
      sender_id: a.user.id,
      sender: a.user.username,
      epoch: 0,
      nonce: first.outgoing.nonce,
      ciphertext: first.outgoing.ciphertext,
      signature: first.outgoing.signature,
      created_at: first.sent.created_at,
    };
    for (const pushed of [await firstToB, await firstToA]) {
      expect(Object.keys(pushed).sort()).toEqual([...messageFields].sort());
      expect(pushed).toEqual(expected);
    }

    // Room acks: a member may join, a stranger may not; leave always answers.
    expect(await ack(sb, "join-conversation", conversationId)).toEqual({ ok: true });
    expect(await ack(sc, "join-conversation", conversationId)).toEqual({ error: "not_a_member" });
    expect(await ack(sc, "leave-conversation", conversationId)).toEqual({ ok: true });

    // A socket of B connected now is in the room without joining anything.
    const sb2 = await connect(url, b.token);
    sockets.push(sb2);
    const logB2 = record(sb2);
    const secondToB = next<Message>(sb, "new-message");
    const secondToB2 = next<Message>(sb2, "new-message");
    const second = await send(request, a.token, conversationId);
    expect(second.sent.seq).toBe(2);
    for (const pushed of [await secondToB, await secondToB2]) {
      expect(pushed.id).toBe(second.outgoing.message_id);
      expect(pushed.seq).toBe(2);
      expect(pushed.ciphertext).toBe(second.outgoing.ciphertext);
    }

    // After leaving, B's first socket hears nothing more; B's second does.
    expect(await ack(sb, "leave-conversation", conversationId)).toEqual({ ok: true });
    const thirdToB2 = next<Message>(sb2, "new-message");
    const third = await send(request, a.token, conversationId);
    expect(third.sent.seq).toBe(3);
    expect((await thirdToB2).id).toBe(third.outgoing.message_id);

    // Let stray deliveries arrive, then count: each message once per room
    // socket, nothing at all for the stranger.
    await sleep(1_000);
    const seqs = (log: Received[]) =>
      log.filter((r) => r.event === "new-message").map((r) => (r.payload as Message).seq);
    expect(seqs(logA)).toEqual([1, 2, 3]);
    expect(seqs(logB)).toEqual([1, 2]);
    expect(seqs(logB2)).toEqual([2, 3]);
    expect(logB.filter((r) => r.event === "conversation-added")).toHaveLength(1);
    expect(logC).toEqual([]);
    expect(sc.connected).toBe(true);
  } finally {
    for (const socket of sockets) socket.close();
  }
});
