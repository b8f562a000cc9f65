// Hush's service worker: it keeps the app's shell (the pages, the script, the
// WASM, the styles) so that Hush opens without a network, for instance to show
// and keep the messages still waiting to be sent.
// Pages are network first: whenever the server answers, its answer is used
// and kept; the cache is only a fallback. For a navigation the browser asks
// the server while this worker starts (navigation preload). The build's
// files under /pkg/ carry a hash of their content in their names
// (cargo-leptos's hash-files), so a name never changes meaning: they are
// served from the cache without asking the server, and a page always gets
// exactly the files its HTML names.
// It never touches /api/ or /socket.io/: data comes from the server, and
// nothing here ever holds a message, a key or a token.
const CACHE = "hush-shell-v3";
const PAGES = ["/", "/signup", "/chats", "/favicon.svg"];
// Every /chats/{id} page renders the same shell (the app fills it in the
// browser), so one copy serves them all offline.
const CONVERSATION_PAGE = "/chats/~conversation";
// Any conversation's address serves as the template for all of them.
const TEMPLATE = "/chats/00000000-0000-7000-8000-000000000000";
// Which build the server has: cargo-leptos's list of the hashes in the
// build's file names (src/server/build_files.rs serves it, never cached).
const BUILD = "/hash.txt";

// The files of the build `hashes` (the text of /hash.txt) describes: the
// script, the WASM and the styles, and in a build split by route the parts'
// loader, their list (the manifest) and the parts it lists.
async function buildFiles(hashes) {
  const hash = Object.fromEntries(
    hashes
      .split("\n")
      .map((line) => line.split(":").map((s) => s.trim()))
      .filter((pair) => pair.length === 2 && pair[1] !== ""),
  );
  const files = [`/pkg/hush.${hash.js}.js`, `/pkg/hush.${hash.wasm}.wasm`, `/pkg/hush.${hash.css}.css`];
  if (hash.split) files.push(`/pkg/__wasm_split.${hash.split}.js`);
  if (hash.manifest) {
    const manifest = `/pkg/__wasm_split_manifest.${hash.manifest}.json`;
    files.push(manifest);
    const answer = await fetchHeld(manifest);
    if (answer.ok) {
      for (const parts of Object.values(await answer.clone().json())) {
        files.push(...parts.map((part) => `/pkg/${part}.wasm`));
      }
    }
  }
  return files;
}

// A build file from the cache, else from the server (and then kept): its
// name says which content it is.
async function fetchHeld(path) {
  const cache = await caches.open(CACHE);
  const held = await cache.match(path);
  if (held) return held;
  const response = await fetch(path);
  if (response.ok) await cache.put(path, response.clone());
  return response;
}

// Brings the cache up to the server's build: fetches what it lacks of it,
// and drops the files of every build but this one and the one before (a
// page still open on that one may yet ask for one of its files).
async function followBuild() {
  const answer = await fetch(BUILD, { cache: "no-cache" });
  if (!answer.ok) return;
  const hashes = await answer.text();
  const cache = await caches.open(CACHE);
  const before = await cache.match(BUILD);
  const previous = before ? await before.text() : "";
  if (previous === hashes) return;
  const current = await buildFiles(hashes);
  const missing = (await Promise.all(current.map(fetchHeld))).filter((response) => !response.ok);
  if (missing.length > 0) throw new Error(`the build's files: ${missing.map((r) => r.url).join(", ")}`);
  const keep = new Set([...current, ...(previous ? await buildFiles(previous) : [])]);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/pkg/") && !keep.has(path)) await cache.delete(request);
  }
  await cache.put(BUILD, new Response(hashes));
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then(async (cache) => {
        await cache.addAll(PAGES);
        await cache.put(CONVERSATION_PAGE, await fetch(TEMPLATE));
        await followBuild();
      })
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    Promise.all([
      // The browser asks the server for a page while this worker starts,
      // rather than after (networkFirst takes its answer).
      self.registration.navigationPreload?.enable(),
      caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))),
    ]).then(() => self.clients.claim()),
  );
});

// Whether a build file's name carries its content's hash, as cargo-leptos
// writes it: `/pkg/stem.<22 characters of base64url>.extension` (the rule
// src/server/build_files.rs gives a year's Cache-Control by).
function hashed(path) {
  if (!/^\/pkg\/[^/]+$/.test(path)) return false;
  const parts = path.split("/").pop().split(".");
  return parts.slice(1, -1).some((part) => /^[A-Za-z0-9_-]{22}$/.test(part) && !/^_+$/.test(part));
}

function cacheKey(url) {
  return /^\/chats\/[^/]+$/.test(url.pathname) ? CONVERSATION_PAGE : url.pathname;
}

// The server's answer to a page: for a navigation, the one the browser
// asked for while this worker started (navigation preload), if it did.
async function fromServer(event) {
  const preloaded = event.request.mode === "navigate" ? await event.preloadResponse : undefined;
  return preloaded || fetch(event.request);
}

// A page, network first: the server's answer is kept for offline use, and a
// page that loaded from the server also brings the cache up to its build.
function networkFirst(event, key) {
  return fromServer(event)
    .then((response) => {
      if (response.ok) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
        if (event.request.mode === "navigate") event.waitUntil(followBuild().catch(() => {}));
      }
      return response;
    })
    .catch(() =>
      caches.match(key).then((hit) => hit || caches.match("/chats")).then((hit) => hit || Response.error()),
    );
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/socket.io/")) return;
  if (url.pathname === BUILD) return;
  event.respondWith(hashed(url.pathname) ? fetchHeld(url.pathname) : networkFirst(event, cacheKey(url)));
});
