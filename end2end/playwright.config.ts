// Playwright drives Debian's Chromium (never a downloaded browser) against the
// real server, built beforehand by `cargo leptos build --split` (scripts/test does it).
import { randomBytes } from "node:crypto";
import { defineConfig } from "@playwright/test";
import { chromium } from "./chromium.mjs";

const port = Number(process.env.E2E_PORT ?? 3107);
const baseURL = `http://127.0.0.1:${port}`;
// Two nodes, as a deployment that outgrew one machine runs: one database
// (the first node's SQLite file), one token secret, one Redis (the local
// server, TEST_REDIS_URL), under a prefix of this run's own. Most specs
// talk to the first; cluster.spec.ts puts one person on each.
const secondPort = port + 1;
const redis = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
process.env.E2E_TOKEN_SECRET ??= randomBytes(32).toString("base64");
process.env.E2E_REDIS_PREFIX ??= `hush-e2e-${process.pid}`;
const node = (listen: number, dataDir: string, more = "") =>
  `target/debug/hush serve --listen 127.0.0.1:${listen} --data-dir ${dataDir} --site-dir target/site ` +
  `--signups-per-address 1000 --handshakes-per-address 1000 --redis-prefix ${process.env.E2E_REDIS_PREFIX} ${more}`;
const env = { RUST_LOG: "warn", HUSH_TOKEN_SECRET: process.env.E2E_TOKEN_SECRET, HUSH_REDIS_URL: redis };

export default defineConfig({
  testDir: "./tests",
  // A test's whole budget: signing up three people with the debug WASM
  // takes a 2-core machine 15 s alone when the run is quiet, and about
  // twice that late in a full run (the expectations keep their own 5 s).
  timeout: 60_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: chromium,
  },
  webServer: [
    {
      // Run from the repository root: the binary serves target/site. A fresh
      // data directory per run (scripts/test empties target/e2e-data).
      cwd: "..",
      command: node(port, "target/e2e-data"),
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
      env,
    },
    {
      // The second node opens the first's database once the first has
      // made it (its migrations ran).
      cwd: "..",
      command:
        `bash -c 'until (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; do sleep 0.2; done; exec ` +
        node(secondPort, "target/e2e-data/second", "--database-url sqlite://target/e2e-data/hush.db") +
        "'",
      url: `http://127.0.0.1:${secondPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
      env,
    },
  ],
});
