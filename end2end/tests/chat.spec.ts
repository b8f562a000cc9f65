// The seed's two-window scenario, done right: two people in two browsers
// start a conversation by username and chat; each message appears on the
// other side at once, without a reload, with the right sender, alignment,
// time and decrypted text. A third person in a group sees both. A message
// that fails verification is shown as such, and text is never HTML.
import { expect, test } from "./guard";
import { clock, lastMessage, send, side, signUp, startConversation } from "./app";
import { random, uuidV7 } from "./wire";

test("hi89 and lo89 chat instantly, in both directions, and it survives a reload", async ({ browser }) => {
  const hi = await signUp(browser, "hi89");
  const lo = await signUp(browser, "lo89");

  // An unknown name is refused in the dialog, next to the field.
  await hi.getByRole("button", { name: "New conversation" }).click();
  await hi.getByLabel("Add people by username").fill("nobody42");
  await hi.getByRole("button", { name: "Add", exact: true }).click();
  await expect(hi.locator("#add-person-error")).toHaveText("No user is called nobody42.");
  await hi.getByRole("button", { name: "Cancel" }).click();

  await startConversation(hi, ["lo89"]);
  await expect(hi.getByText("Messages here are end-to-end encrypted.", { exact: false })).toBeVisible();

  // lo89 sees the new conversation arrive in the list, without a reload.
  const entry = lo.getByRole("link", { name: /hi89/ });
  await expect(entry).toBeVisible();
  await entry.click();
  await expect(lo.getByRole("heading", { name: "hi89" })).toBeVisible();

  const before = new Date();
  await send(hi, "Hello lo89 👋 — this is end-to-end encrypted");
  const received = lastMessage(lo, "theirs");
  await expect(received).toContainText("Hello lo89 👋 — this is end-to-end encrypted", { timeout: 1_000 });
  await expect(received).toHaveAttribute("data-sender", "hi89");
  await expect(received).toHaveAttribute("data-seq", "1");
  expect(await side(lo, received)).toBe("left");
  const shown = (await received.locator("time").textContent()) ?? "";
  expect([clock(before), clock(new Date())]).toContain(shown);

  const sent = lastMessage(hi, "mine");
  await expect(sent).toContainText("Hello lo89");
  // Stored, and read at once: lo89 has the conversation open.
  await expect(sent.getByLabel("Read")).toBeVisible();
  expect(await side(hi, sent)).toBe("right");

  // The reply comes back the same way.
  await send(lo, "Hi hi89! Got it.");
  const reply = lastMessage(hi, "theirs");
  await expect(reply).toContainText("Hi hi89! Got it.", { timeout: 1_000 });
  await expect(reply).toHaveAttribute("data-sender", "lo89");
  await expect(reply).toHaveAttribute("data-seq", "2");
  expect(await side(hi, reply)).toBe("left");
  expect(await side(lo, lastMessage(lo, "mine"))).toBe("right");

  // Text is text: markup arrives as the characters typed, never as HTML.
  await send(hi, "<b>not bold</b> <img src=x onerror=alert(1)>");
  const markup = lastMessage(lo, "theirs");
  await expect(markup).toContainText("<b>not bold</b> <img src=x onerror=alert(1)>", { timeout: 1_000 });
  await expect(lo.locator(".messages b, .messages img")).toHaveCount(0);

  // The list shows the last message, decrypted here.
  await expect(lo.getByRole("link", { name: /hi89/ })).toContainText("<b>not bold</b>");

  await hi.screenshot({ path: "screenshots/chat-hi89-light-wide.png" });
  await lo.screenshot({ path: "screenshots/chat-lo89-light-wide.png" });

  // A reload fetches history and decrypts it again, in order.
  await lo.reload();
  await expect(lo.locator("li.msg")).toHaveCount(3, { timeout: 10_000 });
  await expect(lo.locator("li.msg").first()).toContainText("Hello lo89");
  await expect(lo.locator("li.msg.mine")).toContainText("Hi hi89! Got it.");

  await hi.context().close();
  await lo.context().close();
});

test("a group of three sees every message with its sender; a forged one is flagged", async ({ browser }) => {
  const hi = await signUp(browser, "hi90");
  const lo = await signUp(browser, "lo90", { colorScheme: "dark" });
  const mid = await signUp(browser, "mid90", { colorScheme: "dark", viewport: { width: 390, height: 844 } });

  await startConversation(hi, ["lo90", "mid90"], "Weekend plans");
  const conversation = hi.url().split("/").pop() ?? "";
  // On a phone the list is the whole screen until a conversation opens.
  await expect(mid.getByRole("link", { name: /Weekend plans/ })).toBeVisible();
  await expect(mid.locator(".pane")).toBeHidden();
  await mid.screenshot({ path: "screenshots/chats-list-dark-narrow.png" });
  for (const page of [lo, mid]) {
    await page.getByRole("link", { name: /Weekend plans/ }).click();
    await expect(page.getByRole("heading", { name: "Weekend plans" })).toBeVisible();
  }

  await send(hi, "Hike on Saturday?");
  await send(lo, "I'm in.");
  const seen = mid.locator("li.msg.theirs");
  await expect(seen).toHaveCount(2, { timeout: 2_000 });
  await expect(seen.nth(0)).toContainText("Hike on Saturday?");
  await expect(seen.nth(0)).toHaveAttribute("data-sender", "hi90");
  await expect(seen.nth(0).locator(".sender")).toHaveText("hi90");
  await expect(seen.nth(1)).toContainText("I'm in.");
  await expect(seen.nth(1).locator(".sender")).toHaveText("lo90");

  await send(mid, "Count me in too");
  await expect(lastMessage(hi, "theirs")).toContainText("Count me in too", { timeout: 1_000 });
  await expect(lastMessage(lo, "theirs")).toHaveAttribute("data-sender", "mid90");

  // A message whose signature does not verify (the server only relays;
  // here hi90's session posts bytes nobody sealed) is flagged, not shown.
  const forged = await hi.request.post("/api/messages/send", {
    headers: { Accept: "application/json" },
    data: {
      conversation_id: conversation,
      message_id: uuidV7(),
      epoch: 0,
      nonce: random(12),
      ciphertext: random(48),
      signature: random(64),
    },
  });
  expect(forged.status()).toBe(200);
  const flagged = lastMessage(lo, "theirs");
  await expect(flagged).toContainText("could not be verified", { timeout: 2_000 });
  await expect(flagged.locator(".bubble.unverified")).toBeVisible();

  await mid.screenshot({ path: "screenshots/chat-group-dark-narrow.png" });
  await lo.screenshot({ path: "screenshots/chat-group-unverified-dark-wide.png" });
  // The back button returns a phone to the list.
  await mid.getByRole("link", { name: "Back to conversations" }).click();
  await expect(mid.getByRole("link", { name: /Weekend plans/ })).toBeVisible();
  for (const page of [hi, lo, mid]) await page.context().close();
});

test("a long conversation: written order kept, older pages load on scroll, the pill offers new ones", async ({ browser }) => {
  test.setTimeout(120_000);
  const hi = await signUp(browser, "hi91");
  await expect(hi.getByText("No conversations yet.", { exact: false })).toBeVisible();
  await expect(hi.getByRole("heading", { name: "Start your first conversation" })).toBeVisible();
  await hi.screenshot({ path: "screenshots/chats-empty-light-wide.png" });
  const lo = await signUp(browser, "lo91");

  await hi.getByRole("button", { name: "New conversation" }).click();
  await hi.getByLabel("Add people by username").fill("LO91");
  await hi.getByRole("button", { name: "Add", exact: true }).click();
  await expect(hi.getByRole("list", { name: "People in the conversation" })).toContainText("lo91");
  await hi.getByLabel("Title").fill("Long thread");
  await hi.screenshot({ path: "screenshots/new-conversation-dialog.png" });
  await hi.getByRole("button", { name: "Start conversation" }).click();
  await expect(hi).toHaveURL(/\/chats\/[0-9a-f-]{36}$/);

  // Typed faster than the server answers: stored in the order written.
  const total = 70;
  const box = hi.getByLabel("Message", { exact: true });
  for (let i = 1; i <= total; i++) {
    await box.fill(`m${i}`);
    await box.press("Enter");
  }
  await expect(hi.locator("li.msg.mine").last()).toHaveAttribute("data-seq", String(total), { timeout: 60_000 });
  await expect(hi.locator("li.msg.mine .state.pending")).toHaveCount(0, { timeout: 20_000 });
  const texts = await hi.locator("li.msg.mine .text").allTextContents();
  expect(texts).toEqual(Array.from({ length: total }, (_, i) => `m${i + 1}`));

  // A fresh load shows the newest page; scrolling up brings the rest
  // without moving what the reader was looking at.
  await lo.getByRole("link", { name: /Long thread/ }).click();
  await lo.reload();
  const rows = lo.locator("li.msg");
  await expect(rows).toHaveCount(50, { timeout: 10_000 });
  await expect(rows.last()).toHaveAttribute("data-seq", String(total));
  const anchor = lo.locator('li.msg[data-seq="21"]');
  await lo.locator(".timeline").evaluate((el) => el.scrollTo({ top: 0 }));
  await expect(rows).toHaveCount(total, { timeout: 10_000 });
  const seqs = await rows.evaluateAll((items) => items.map((li) => Number(li.getAttribute("data-seq"))));
  expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  await expect(lo.getByText("Messages here are end-to-end encrypted.", { exact: false })).toBeAttached();
  const pane = await lo.locator(".timeline").boundingBox();
  const kept = await anchor.boundingBox();
  if (!pane || !kept) throw new Error("not laid out");
  expect(kept.y).toBeGreaterThanOrEqual(pane.y - 1);
  expect(kept.y).toBeLessThan(pane.y + pane.height);

  // Reading old messages: a new one does not yank the view; a pill offers it.
  await send(hi, "fresh news");
  const pill = lo.getByRole("button", { name: "New messages ↓" });
  await expect(pill).toBeVisible({ timeout: 2_000 });
  await expect(anchor).toBeInViewport();
  await pill.click();
  await expect(lo.locator("li.msg").last()).toContainText("fresh news");
  await expect(lo.locator("li.msg").last()).toBeInViewport();
  await expect(pill).toBeHidden();

  for (const page of [hi, lo]) await page.context().close();
});

test("a conversation opened from its address asks for its newest page and opens the database before the page hydrates", async ({ browser }) => {
  const op = await signUp(browser, "op79");
  await signUp(browser, "ed79").then((ed) => ed.context().close());
  await startConversation(op, ["ed79"]);
  await send(op, "kept for the next load");
  await expect(lastMessage(op, "mine")).toContainText("kept for the next load");
  const address = op.url();

  // A second tab of the same browser, watched from its first script on:
  // when the page asks for history, opens IndexedDB, and when hydration
  // starts attaching the page's event handlers.
  const tab = await op.context().newPage();
  await tab.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    const fetch = window.fetch;
    window.fetch = function (this: Window, ...args: Parameters<typeof fetch>) {
      const url = args[0] instanceof Request ? args[0].url : String(args[0]);
      if (url.includes("/api/messages/history")) seen.push("history");
      return fetch.apply(this, args);
    } as typeof fetch;
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (this: IDBFactory, ...args: Parameters<typeof open>) {
      seen.push("database");
      return open.apply(this, args);
    };
    const listen = EventTarget.prototype.addEventListener;
    EventTarget.prototype.addEventListener = function (this: EventTarget, ...args: Parameters<typeof listen>) {
      if (args[0] === "click" && !seen.includes("hydrating")) seen.push("hydrating");
      return listen.apply(this, args);
    };
  });
  await tab.goto(address);
  await expect(lastMessage(tab, "mine")).toContainText("kept for the next load");
  const seen = await tab.evaluate(() => (window as unknown as { seen: string[] }).seen);
  const at = (what: string) => {
    expect(seen, `${what} in ${seen.join(", ")}`).toContain(what);
    return seen.indexOf(what);
  };
  expect(at("history")).toBeLessThan(at("hydrating"));
  expect(at("database")).toBeLessThan(at("hydrating"));

  await op.context().close();
});
