// Every browser test runs under the app's content security policy and
// fails on any violation of it: each browser context a test opens (the
// `page` fixture's, and every `browser.newContext()`) reports
// `securitypolicyviolation` events and Chromium's own CSP console errors,
// and the test's end asserts there were none. Specs import `test` and
// `expect` from here.
import { test as base, expect, type Browser, type BrowserContext } from "@playwright/test";

export { expect };
export type { APIRequestContext, Page } from "@playwright/test";

/** Collects the content security policy violations of `context`. */
async function watch(context: BrowserContext, violations: string[]) {
  context.on("console", (message) => {
    const text = message.text();
    if (text.startsWith("csp-violation:") || (message.type() === "error" && text.includes("Content Security Policy"))) {
      violations.push(`${text} (${message.location().url})`);
    }
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`csp-violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"} in ${e.sourceFile}:${e.lineNumber}`);
    });
  });
}

export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ browser, context }, use) => {
      const violations: string[] = [];
      await watch(context, violations);
      const open = browser.newContext.bind(browser);
      const watched: Browser["newContext"] = async (options) => {
        const opened = await open(options);
        await watch(opened, violations);
        return opened;
      };
      browser.newContext = watched;
      await use(violations);
      browser.newContext = open;
      expect(violations, "no content security policy violation").toEqual([]);
    },
    { auto: true },
  ],
});
