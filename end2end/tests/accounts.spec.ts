// Accounts in the browser: sign up derives and wraps the keys locally, a
// reload keeps the user signed in with keys ready, logout forgets them, and
// logging in from a fresh browser context restores the same identity.
import { expect, test, type Page } from "./guard";

const password = "correct horse battery staple";

async function submit(page: Page, path: string, username: string, secret: string, button: string) {
  await page.goto(path);
  await expect(page.getByRole("button", { name: button })).toBeEnabled();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(secret);
  await page.getByRole("button", { name: button }).click();
}

/** Opens the account menu in the sidebar (who is signed in, safety number, log out). */
async function openMenu(page: Page, username: string) {
  await page.getByRole("button", { name: `Account: ${username.toLowerCase()}` }).click();
}

test("sign up, reload, log out, log in elsewhere: the same identity", async ({ browser }) => {
  const name = `hi${Date.now() % 100000}`;
  const first = await browser.newContext();
  const page = await first.newPage();
  await submit(page, "/signup", name, password, "Create account");
  await expect(page).toHaveURL(/\/chats$/, { timeout: 20_000 });
  await openMenu(page, name);
  await expect(page.getByRole("heading", { name: `Signed in as ${name}` })).toBeVisible();
  const safety = (await page.getByTestId("safety-number").textContent()) ?? "";
  expect(safety).toMatch(/^\d{5}( \d{5}){4}$/);
  await page.screenshot({ path: "screenshots/signed-in-light-wide.png", fullPage: true });

  // The session cookie is HttpOnly: page scripts cannot read it.
  expect(await page.evaluate(() => document.cookie)).not.toContain("hush_session");

  // A reload keeps the user signed in, keys ready, no password asked.
  await page.reload();
  await openMenu(page, name);
  await expect(page.getByRole("heading", { name: `Signed in as ${name}` })).toBeVisible();
  await expect(page.getByTestId("safety-number")).toHaveText(safety);

  // Logout forgets the keys: the signed-in page sends us back to sign in.
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/chats");
  await expect(page).toHaveURL(/\/$/);
  await page.screenshot({ path: "screenshots/after-logout.png", fullPage: true });

  // A fresh browser: a wrong password is refused, the right one restores
  // the same identity (names are case-insensitive).
  const second = await browser.newContext();
  const other = await second.newPage();
  await submit(other, "/", name.toUpperCase(), "not the right password", "Sign in");
  await expect(other.getByRole("status")).toContainText("Wrong username or password", { timeout: 20_000 });
  await other.getByLabel("Password", { exact: true }).fill(password);
  await other.getByRole("button", { name: "Sign in" }).click();
  await expect(other).toHaveURL(/\/chats$/, { timeout: 20_000 });
  await openMenu(other, name);
  await expect(other.getByTestId("safety-number")).toHaveText(safety);

  await first.close();
  await second.close();
});

test("a taken name is refused with the server's reason", async ({ page }) => {
  const name = `lo${Date.now() % 100000}`;
  await submit(page, "/signup", name, password, "Create account");
  await expect(page).toHaveURL(/\/chats$/, { timeout: 20_000 });
  await openMenu(page, name);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await submit(page, "/signup", name, password, "Create account");
  await expect(page.getByRole("status")).toContainText("That username is taken.", { timeout: 20_000 });
});
