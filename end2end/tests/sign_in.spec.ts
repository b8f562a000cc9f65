// The sign-in and sign-up screens: rendered by the server, hydrated by the
// WASM app (the checks below only pass once it runs), and screenshotted.
import { expect, test } from "./guard";

test("the sign-in page hydrates: reveal and inline validation work", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveTitle("Sign in · Hush");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.getByText("Your password never leaves this browser.")).toBeVisible();

  const password = page.getByLabel("Password", { exact: true });
  await password.fill("correct horse battery");
  await expect(password).toHaveAttribute("type", "password");
  // The button is disabled until the WASM app has hydrated; click waits for it.
  await page.getByRole("button", { name: "Show" }).click();
  await expect(password).toHaveAttribute("type", "text");
  await expect(page.getByRole("button", { name: "Hide" })).toHaveAttribute("aria-pressed", "true");

  const username = page.getByLabel("Username");
  await username.fill("a");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#username-error")).toHaveText("Use 3 to 32 characters.");
  await expect(username).toHaveAttribute("aria-invalid", "true");
  await expect(username).toBeFocused();
  // Typing clears the error.
  await username.fill("hi89");
  await expect(page.locator("#username-error")).toBeEmpty();

  await page.screenshot({ path: "screenshots/sign-in-light-wide.png", fullPage: true });
});

test("the link switches to sign-up inside the app, without a reload", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/signup$/);
  await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
  // Same document: the router navigated client-side.
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByLabel("Username").fill("lo89");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#password-error")).toHaveText("Use at least 10 characters.");
});

test.describe("dark and narrow", () => {
  test.use({ colorScheme: "dark", viewport: { width: 390, height: 844 } });

  test("sign-up renders in the dark theme on a phone", async ({ page }) => {
    await page.goto("/signup");
    await expect(page.getByRole("button", { name: "Create account" })).toBeEnabled();
    const text = await page.evaluate(() => getComputedStyle(document.body).color);
    expect(text).toBe("rgb(232, 234, 240)");
    await page.screenshot({ path: "screenshots/sign-up-dark-narrow.png", fullPage: true });
  });
});

test("sign-up refuses a common password before deriving anything", async ({ page }) => {
  await page.goto("/signup");
  await expect(page.getByRole("button", { name: "Create account" })).toBeEnabled();
  await page.getByLabel("Username").fill("carol");
  await page.getByLabel("Password", { exact: true }).fill("Password123");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#password-error")).toHaveText(
    "This password is too common. Choose something less guessable.",
  );
  await expect(page).toHaveURL(/\/signup$/);
});

test("the page's content security policy blocks script it did not bring", async ({ page, cspViolations }) => {
  await page.goto("/");
  // Hydrated under the policy: the app's own scripts and WASM ran.
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  await page.evaluate(() => {
    const button = document.createElement("button");
    button.setAttribute("onclick", "window.__injected = true");
    document.body.append(button);
    button.click();
  });
  expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
  await expect.poll(() => cspViolations.length).toBeGreaterThan(0);
  expect(cspViolations.join("\n")).toContain("script-src");
  // This test's violation was the point; the guard checks the others.
  cspViolations.length = 0;
});
