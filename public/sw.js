// Hush's service worker: it keeps the app's shell (the pages, the script, the
// WASM, the styles) so that Hush opens without a network, for instance to show
// and keep the messages still waiting to be sent. Network first: whenever the
// server answers, its answer is used, and kept if it is a new version; the
// cache is only a fallback.
// It never touches /api/ or /socket.io/: data comes from the server, and
// nothing here ever holds a message, a key or a token.
const CACHE = "hush-shell-v1";
const SHELL = ["/", "/signup", "/chats", "/pkg/hush.js", "/pkg/hush.wasm", "/pkg/hush.css", "/favicon.svg"];
// Every /chats/{id} page renders the same shell (the app fills it in the
// browser), so one copy serves them all offline.
const CONVERSATION_PAGE = "/chats/~conversation";

// Any conversation's address serves as the template for all of them.
const TEMPLATE = "/chats/00000000-0000-7000-8000-000000000000";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) =>
        cache.addAll(SHELL).then(() => fetch(TEMPLATE).then((page) => cache.put(CONVERSATION_PAGE, page))),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Keeps a fresh answer for offline use, unless the cache already holds that
// very version (the same ETag or Last-Modified): a page load then does not
// write the 1.2 MB WASM and the script into the cache all over again.
async function keep(key, response) {
  const cache = await caches.open(CACHE);
  const held = await cache.match(key);
  const same = (name) => {
    const value = response.headers.get(name);
    return value !== null && held !== undefined && value === held.headers.get(name);
  };
  if (same("etag") || same("last-modified")) {
    await response.body?.cancel();
    return;
  }
  await cache.put(key, response);
}

function cacheKey(url) {
  return /^\/chats\/[^/]+$/.test(url.pathname) ? CONVERSATION_PAGE : url.pathname;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/socket.io/")) return;
  const key = cacheKey(url);
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) event.waitUntil(keep(key, response.clone()));
        return response;
      })
      .catch(() =>
        caches.match(key).then((hit) => hit || caches.match("/chats")).then((hit) => hit || Response.error()),
      ),
  );
});
