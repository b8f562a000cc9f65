// Playwright drives Debian's Chromium (never a downloaded browser) against the
// real server, built beforehand by `cargo leptos build` (scripts/test does it).
import { defineConfig } from "@playwright/test";
import { chromium } from "./chromium.mjs";

const port = Number(process.env.E2E_PORT ?? 3107);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
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
  webServer: {
    // Run from the repository root: the binary serves target/site. A fresh
    // data directory per run (scripts/test empties target/e2e-data).
    cwd: "..",
    command: `target/debug/hush serve --listen 127.0.0.1:${port} --data-dir target/e2e-data --site-dir target/site --signups-per-address 1000 --handshakes-per-address 1000`,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: { RUST_LOG: "warn" },
  },
});
