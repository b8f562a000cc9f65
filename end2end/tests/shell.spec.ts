// The service worker and the build's files: every file under /pkg/ is named
// after a hash of its content (cargo-leptos's hash-files), so the service
// worker serves the files it holds without asking the server, and the
// server tells browsers to keep them (src/server/build_files.rs).
import type { Browser } from "@playwright/test";
import { expect, test } from "./guard";

/** A new browser profile on the sign-in page, hydrated, once the service
 * worker has installed (holding the build) and controls the page. */
async function underServiceWorker(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, { timeout: 20_000 });
  return { context, page };
}

test("once the service worker holds the build, the app's files come from it, even when the server fails them", async ({
  browser,
}) => {
  const { context, page } = await underServiceWorker(browser);

  // From now on the server answers every build file with an error.
  let failed = 0;
  await context.route(/\/pkg\//, (route) => {
    failed += 1;
    return route.fulfill({ status: 503, body: "the server failed this build file" });
  });
  // The route does reach what the service worker asks the network for: a
  // build file it does not hold gets the failure.
  const unknown = await page.evaluate(async () => {
    const answer = await fetch("/pkg/hush.AAAAAAAAAAAAAAAAAAAAAA.wasm");
    return { status: answer.status, text: await answer.text() };
  });
  expect(unknown).toEqual({ status: 503, text: "the server failed this build file" });
  expect(failed).toBe(1);

  // A reload gets the page from the server and every file it names from the
  // service worker's cache: the app hydrates, and no build file was asked of
  // the server.
  await page.reload();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  expect(failed).toBe(1);
  await context.close();
});

test("the service worker follows the server's build: it fetches a new build's files and keeps only that one and the one before", async ({
  browser,
}) => {
  const { context, page } = await underServiceWorker(browser);
  const held = () =>
    page.evaluate(async () => {
      const cache = await caches.open("hush-shell-v3");
      return (await cache.keys()).map((request) => new URL(request.url).pathname).filter((p) => p.startsWith("/pkg/"));
    });
  const real = (await (await page.request.get("/hash.txt")).text()).match(/^wasm: (.+)$/m)![1];
  expect(await held()).toContain(`/pkg/hush.${real}.wasm`);

  // The server deploys build B, then build C (both made up here: the list
  // of hashes and the files it names).
  const deploy = async (letter: string) => {
    const hash = letter.repeat(22);
    await context.unroute("/hash.txt");
    await context.route("/hash.txt", (route) =>
      route.fulfill({ contentType: "text/plain", body: `js: ${hash}\nwasm: ${hash}\ncss: ${hash}\n` }),
    );
    await context.route(`**/pkg/hush.${hash}.*`, (route) => route.fulfill({ body: `build ${letter}` }));
    // Any page loaded from the server brings the service worker up to its
    // build; this one (the icon) asks for no build file of its own.
    await page.goto("/favicon.svg");
    return ["js", "wasm", "css"].map((ext) => `/pkg/hush.${hash}.${ext}`);
  };
  const b = await deploy("B");
  await expect.poll(async () => (await held()).filter((p) => b.includes(p)).length, { timeout: 10_000 }).toBe(3);
  expect(await held()).toContain(`/pkg/hush.${real}.wasm`);

  const c = await deploy("C");
  await expect.poll(async () => (await held()).filter((p) => c.includes(p)).length, { timeout: 10_000 }).toBe(3);
  await expect.poll(held, { timeout: 10_000 }).not.toContain(`/pkg/hush.${real}.wasm`);
  expect(await held()).toEqual(expect.arrayContaining(b));
  await context.close();
});

test("the browser asks the server for a page while the service worker starts, and the worker serves that answer (navigation preload)", async ({
  browser,
}) => {
  const { context, page } = await underServiceWorker(browser);
  const state = await page.evaluate(async () => (await navigator.serviceWorker.ready).navigationPreload.getState());
  expect(state).toEqual({ enabled: true, headerValue: "true" });

  // The worker's copy of the page goes, so what it serves next comes from
  // the server (its fallback would be the chats shell).
  expect(await page.evaluate(async () => (await caches.open("hush-shell-v3")).delete("/signup"))).toBe(true);
  // Whatever the worker asks the network for itself reaches this route (the
  // first test shows it); the browser's early request does not.
  const own: string[] = [];
  await context.route("**/signup", (route) => {
    own.push(route.request().url());
    return route.continue();
  });
  await page.goto("/signup");
  await expect(page.getByRole("button", { name: "Create account" })).toBeEnabled();
  expect(own).toEqual([]);
  await context.close();
});

test("the sign-in page loads only its part of the app; the service worker holds the chats part too, for offline use", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const asked: string[] = [];
  page.on("request", (request) => asked.push(new URL(request.url()).pathname));
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, { timeout: 20_000 });

  // The build is split by route: hash.txt names the parts' loader and their
  // list, which names the chats part.
  const hashes = await (await page.request.get("/hash.txt")).text();
  const hash = (kind: string) => hashes.match(new RegExp(`^${kind}: (.+)$`, "m"))?.[1];
  expect(hash("split"), hashes).toBeTruthy();
  expect(hash("manifest"), hashes).toBeTruthy();
  const manifest = (await (await page.request.get(`/pkg/__wasm_split_manifest.${hash("manifest")}.json`)).json()) as Record<
    string,
    string[]
  >;
  const parts = Object.values(manifest)
    .flat()
    .map((part) => `/pkg/${part}.wasm`);
  expect(parts.some((part) => part.includes("chats_route"))).toBe(true);

  // The sign-in page asked for the main part and none of the others.
  expect(asked).toContain(`/pkg/hush.${hash("wasm")}.wasm`);
  expect(asked.filter((path) => parts.includes(path))).toEqual([]);

  // The service worker holds every part, the loader and the list.
  await expect
    .poll(
      () =>
        page.evaluate(async () => {
          const cache = await caches.open("hush-shell-v3");
          return (await cache.keys()).map((request) => new URL(request.url).pathname);
        }),
      { timeout: 10_000 },
    )
    .toEqual(
      expect.arrayContaining([
        ...parts,
        `/pkg/__wasm_split.${hash("split")}.js`,
        `/pkg/__wasm_split_manifest.${hash("manifest")}.json`,
      ]),
    );
  await context.close();
});
