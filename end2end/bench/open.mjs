// Benchmark (g): how long Chromium takes to open a conversation, measured in
// the page. Run by `hush-bench` (bench/src/browser.rs) against a server it
// seeded; prints one JSON line: {"cold": [ms…], "warm": [ms…], "idle": [ms…],
// "phases": {…}, "idle_phases": {…}}.
//
//   cold: a full load of /chats/<id> (HTML, WASM, unlocking the keys from
//         IndexedDB, list, history, verify, decrypt, render), from the
//         navigation's start until the conversation's last message is in
//         the DOM;
//   warm: with the app open on /chats, from the click on the conversation
//         in the list until its last message is in the DOM;
//   idle: the cold open again, after the service worker was stopped (as
//         Chromium stops an idle one, about 30 s after its last event): the
//         navigation waits for it to start (each cold and idle load starts
//         once the page before has settled, its socket connected and 250 ms
//         more, so that page's own start, still checking the key sets of
//         other conversations, is not counted in the next load);
//   phases: for each cold open, when (ms from the navigation's start) the
//         HTML and the JS arrived, the main WASM was asked for and arrived,
//         the last of the route's WASM parts arrived (a split build), and
//         the list and the first history request were sent and answered
//         (the page's Resource Timing);
//   idle_phases: the same, for each idle load.
//
// Environment: BENCH_BASE (http://127.0.0.1:port), BENCH_USER,
// BENCH_PASSWORD, BENCH_CONVERSATION (id), BENCH_MARKER (text of the last
// message), BENCH_RUNS (default 5), BENCH_TRACE (optional: a file to write a
// Chromium trace of the last cold open to, for chrome://tracing or Perfetto).
import { chromium } from "@playwright/test";
import { chromium as launchOptions } from "../chromium.mjs";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env("BENCH_BASE");
const conversation = env("BENCH_CONVERSATION");
const marker = env("BENCH_MARKER");
const runs = Number(process.env.BENCH_RUNS ?? 5);
// What a BENCH_TRACE shows: the page's main thread, the network, the service
// worker, IndexedDB, and the WASM compile.
const TRACE_CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "toplevel",
  "loading",
  "netlog",
  "ServiceWorker",
  "IndexedDB",
  "v8",
  "v8.wasm",
  "v8.execute",
  "blink.resource",
];

// Installed before any page script: records when the marker first appears
// and reports it through a CDP binding (`__hushOpened`). Waiting with
// Playwright's waitForFunction instead would evaluate its 330 KB injected
// script in the page while the page loads: 17 ms of the main thread, counted
// as the app's.
function watch(marker) {
  window.__openedAt = undefined;
  window.__clickedAt = undefined;
  // In the timeline only: the list shows the last message too.
  const inTimeline = () =>
    [...document.querySelectorAll(".timeline .text")].some((e) => e.textContent.includes(marker));
  new MutationObserver(() => {
    if (window.__openedAt === undefined && inTimeline()) {
      window.__openedAt = performance.now();
      window.__hushOpened?.(String(window.__openedAt));
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
  addEventListener("click", () => (window.__clickedAt = performance.now()), { capture: true });
}

const browser = await chromium.launch(launchOptions);
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(watch, marker);
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel("Username").fill(env("BENCH_USER"));
  await page.getByLabel("Password", { exact: true }).fill(env("BENCH_PASSWORD"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/chats$/, { timeout: 60_000 });
  await page.getByTestId("link-state").getByText("Connected").waitFor({ timeout: 30_000 });

  // The next time the page reports the marker on screen (arm it before the
  // navigation or click that should cause it).
  const cdp = await context.newCDPSession(page);
  let reported = null;
  cdp.on("Runtime.bindingCalled", (event) => {
    if (event.name === "__hushOpened" && reported) reported(Number(event.payload));
  });
  await cdp.send("Runtime.enable");
  await cdp.send("Runtime.addBinding", { name: "__hushOpened" });
  await cdp.send("ServiceWorker.enable");
  const nextOpen = () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the conversation did not open within 30 s")), 30_000);
      reported = (at) => {
        clearTimeout(timer);
        reported = null;
        resolve(at);
      };
    });
  const settled = async () => {
    await page.getByTestId("link-state").getByText("Connected").waitFor({ timeout: 30_000 });
    await page.waitForTimeout(250);
  };
  // Where a cold open's time went, from the page's own Resource Timing.
  const phasesOf = () =>
    page.evaluate(() => {
      const entries = performance.getEntriesByType("resource");
      const first = (pattern) => entries.find((e) => pattern.test(new URL(e.name).pathname));
      const nav = performance.getEntriesByType("navigation")[0];
      const at = (entry, key) => (entry ? entry[key] : null);
      const list = first(/\/api\/conversations\/list$/);
      const history = first(/\/api\/messages\/history$/);
      return {
        html: nav.responseEnd,
        js: at(first(/^\/pkg\/hush\.[^/]*js$/), "responseEnd"),
        wasm_requested: at(first(/^\/pkg\/hush\.[^/]*wasm$/), "startTime"),
        wasm: at(first(/^\/pkg\/hush\.[^/]*wasm$/), "responseEnd"),
        parts: Math.max(
          ...entries.filter((e) => /^\/pkg\/(split|chunk)_/.test(new URL(e.name).pathname)).map((e) => e.responseEnd),
          0,
        ) || null,
        list_sent: at(list, "startTime"),
        list_answered: at(list, "responseEnd"),
        history_sent: at(history, "startTime"),
        history_answered: at(history, "responseEnd"),
      };
    });
  const cold = [];
  const warm = [];
  const idle = [];
  const phases = {};
  const idlePhases = {};
  const trace = process.env.BENCH_TRACE;
  for (let i = 0; i < runs; i++) {
    // The page before (signed in, or the last run's) has finished its own
    // start: its socket is connected and its work done, so none of it is
    // counted in this load, as when a person opens a conversation.
    await settled();
    const tracing = trace && i === runs - 1;
    if (tracing) await browser.startTracing(page, { path: trace, categories: TRACE_CATEGORIES });
    const opened = nextOpen();
    await page.goto(`${base}/chats/${conversation}`, { waitUntil: "commit" });
    cold.push(await opened);
    if (tracing) await browser.stopTracing();
    for (const [key, value] of Object.entries(await phasesOf())) (phases[key] ??= []).push(value);

    await page.goto(`${base}/chats`);
    await page.getByTestId("link-state").getByText("Connected").waitFor({ timeout: 30_000 });
    const entry = page.locator(`a[href="/chats/${conversation}"]`);
    await entry.waitFor();
    // Only what the click causes counts.
    await page.evaluate(() => (window.__openedAt = undefined));
    const shown = nextOpen();
    await entry.click();
    const at = await shown;
    const clicked = await page.evaluate(() => window.__clickedAt);
    warm.push(at - clicked);

    await settled();
    await cdp.send("ServiceWorker.stopAllWorkers");
    const reopened = nextOpen();
    await page.goto(`${base}/chats/${conversation}`, { waitUntil: "commit" });
    idle.push(await reopened);
    for (const [key, value] of Object.entries(await phasesOf())) (idlePhases[key] ??= []).push(value);
  }
  await page.screenshot({ path: "screenshots/bench-open-conversation.png" });
  console.log(JSON.stringify({ cold, warm, idle, phases, idle_phases: idlePhases }));
} finally {
  await browser.close();
}
