// Driving the app the way a person does, for the browser tests: sign up,
// start a conversation by usernames, write, and read the timeline.
import { expect, type Browser, type Locator, type Page } from "@playwright/test";

export const password = "correct horse battery staple";

/** Fills the sign-in or sign-up form at `path` for `name` and submits it. */
async function submitAs(page: Page, path: string, button: string, name: string) {
  await page.goto(path);
  await expect(page.getByRole("button", { name: button })).toBeEnabled();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: button }).click();
  await expect(page).toHaveURL(/\/chats$/, { timeout: 20_000 });
}

export async function signUp(browser: Browser, name: string, options = {}): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await submitAs(page, "/signup", "Create account", name);
  await expect(page.getByTestId("link-state")).toHaveText("Connected");
  return page;
}

export async function startConversation(page: Page, names: string[], title?: string) {
  await page.getByRole("button", { name: "New conversation" }).click();
  const people = page.getByRole("list", { name: "People in the conversation" });
  for (const name of names) {
    await page.getByLabel("Add people by username").fill(name);
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await expect(people).toContainText(name);
  }
  if (title) await page.getByLabel("Title").fill(title);
  await page.getByRole("button", { name: "Start conversation" }).click();
  await expect(page).toHaveURL(/\/chats\/[0-9a-f-]{36}$/, { timeout: 10_000 });
}

export async function send(page: Page, text: string) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
  await expect(box).toHaveValue("");
}

export function lastMessage(page: Page, side: "mine" | "theirs"): Locator {
  return page.locator(`li.msg.${side}`).last();
}

/** Where a bubble sits in its timeline: "left" or "right". */
export async function side(page: Page, message: Locator): Promise<"left" | "right"> {
  const bubble = await message.locator(".bubble").boundingBox();
  const pane = await page.locator(".timeline").boundingBox();
  if (!bubble || !pane) throw new Error("not laid out");
  const middle = bubble.x + bubble.width / 2;
  return middle < pane.x + pane.width / 2 ? "left" : "right";
}

export function clock(date: Date): string {
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}


/** Signs in as an existing user, in a fresh browser (nothing kept locally). */
export async function logIn(browser: Browser, name: string, prepare?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  if (prepare) await prepare(page);
  await submitAs(page, "/", "Sign in", name);
  return page;
}

/** A user's public keys as the server's lookup answers them. */
export async function lookUp(page: Page, name: string): Promise<{ id: string; username: string; dh_public: string; sig_public: string }> {
  const answer = await page.request.post("/api/users/lookup", { data: { username: name } });
  expect(answer.ok()).toBe(true);
  return answer.json();
}
