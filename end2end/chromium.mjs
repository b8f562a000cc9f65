// How every browser run here starts Debian's Chromium (never a downloaded
// browser): headless as root, and without the background networking that
// this machine's closed network refuses. Shared by the Playwright tests
// (playwright.config.ts) and the benchmark's browser script (bench/open.mjs).
export const chromium = {
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};
