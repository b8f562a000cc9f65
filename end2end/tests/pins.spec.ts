// Playing a lying server (suite step 8): real answers rewritten on their way
// to the browser with `page.route` and `routeWebSocket`. A contact's keys
// swapped at lookup or inside a conversation are caught against the pins,
// in red, and nothing is wrapped or sent for them until the user accepts
// the change; names swapped in a signed member set are refused; a prelogin
// asking for weak key settings is refused before anything is sent.
import { expect, test, type Page } from "./guard";
import { lastMessage, logIn, lookUp, send, signUp, startConversation } from "./app";

test.describe.configure({ timeout: 90_000 });

const composer = (page: Page) => page.getByLabel("Message", { exact: true });

type Keys = { dh_public: string; sig_public: string };

/** Gives every user object named `name` in `value` the keys `keysOf`. */
function swapIn(value: unknown, name: string, keysOf: Keys): unknown {
  if (Array.isArray(value)) return value.map((v) => swapIn(v, name, keysOf));
  if (value === null || typeof value !== "object") return value;
  const object = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, swapIn(v, name, keysOf)]));
  if (object.username === name && "dh_public" in object) {
    object.dh_public = keysOf.dh_public;
    object.sig_public = keysOf.sig_public;
  }
  return object;
}

/**
 * The server lies to `victim` about `name`: the answers of `paths` (under
 * /api/) give that user `keysOf`'s keys, consistently (a lying server keeps
 * its story straight).
 */
async function swapKeys(victim: Page, name: string, keysOf: Keys, paths = ["users/lookup"]) {
  for (const path of paths) {
    await victim.route(`**/api/${path}`, async (route) => {
      const real = await route.fetch();
      if (!real.ok()) return route.fulfill({ response: real });
      await route.fulfill({ response: real, json: swapIn(await real.json(), name, keysOf) });
    });
  }
}

test("(a) a pinned contact's keys swapped at lookup: warned, nothing wrapped; (e) accepting re-pins", async ({ browser }) => {
  const ana = await signUp(browser, "ana71");
  const ben = await signUp(browser, "ben71");
  await signUp(browser, "cyd71");
  await startConversation(ana, ["ben71"]); // the first sight pins ben71
  const genuine = ana.url();
  await ben.getByRole("link", { name: /ana71/ }).click();
  await send(ana, "before");
  await expect(lastMessage(ben, "theirs")).toContainText("before", { timeout: 10_000 });

  // The server now answers ben71 with cyd71's (valid) keys.
  const cyd = await lookUp(ana, "cyd71");
  await swapKeys(ana, "ben71", cyd, ["users/lookup", "conversations/create"]);
  const creates: string[] = [];
  ana.on("request", (r) => {
    if (r.url().endsWith("/api/conversations/create")) creates.push(r.postData() ?? "");
  });

  await ana.getByRole("button", { name: "New conversation" }).click();
  await ana.getByLabel("Add people by username").fill("ben71");
  await ana.getByRole("button", { name: "Add", exact: true }).click();
  const dialog = ana.getByRole("dialog");
  const notice = dialog.locator(".key-change");
  await expect(notice).toContainText("ben71's keys have changed since you last saw them.");
  await expect(notice.locator(".key-change-title")).toHaveCSS("color", "rgb(201, 42, 42)");
  await expect(dialog.locator(".chip")).toHaveCount(0);
  await expect(dialog.getByRole("button", { name: "Start conversation" })).toBeDisabled();
  await ana.screenshot({ path: "screenshots/pins-lookup-warning.png" });
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // Every conversation with ben71 says so, and its composer is paused.
  await ana.goto(genuine);
  await expect(ana.locator(".conversation .key-change")).toContainText("ben71's keys have changed");
  await expect(composer(ana)).toBeDisabled();
  await expect(composer(ana)).toHaveAttribute("placeholder", "Paused until you review the change to ben71's keys.");
  await expect(ana.getByRole("link", { name: /ben71/ })).toBeVisible();
  await ana.screenshot({ path: "screenshots/pins-conversation-paused.png" });
  expect(creates).toEqual([]);

  // (e) Accepting, after the second warning, re-pins: the old conversation
  // (its epoch was accepted before) can be written to again.
  await ana.getByRole("button", { name: "Review the change" }).click();
  await expect(ana.locator(".key-change-confirm")).toContainText("Accept only if ben71 confirms it.");
  await ana.screenshot({ path: "screenshots/pins-accept-confirm.png" });
  await ana.getByRole("button", { name: "Accept the new keys" }).click();
  await expect(ana.locator(".key-change")).toHaveCount(0);
  await expect(composer(ana)).toBeEnabled();
  await send(ana, "after accepting");
  await expect(lastMessage(ben, "theirs")).toContainText("after accepting", { timeout: 10_000 });

  // The lookup now agrees with the pin: ben71 can be added (with the keys
  // the user accepted), and the create request wraps for those.
  await startConversation(ana, ["ben71"], "after the change");
  expect(creates).toHaveLength(1);
  expect(JSON.parse(creates[0]).member_ids).toContain((await lookUp(ben, "ben71")).id);
  for (const page of [ana, ben]) await page.context().close();
});

test("(b) a conversation presenting a known member with other keys is held back, and the member's conversations are paused", async ({ browser }) => {
  const ana = await signUp(browser, "ana72");
  const ben = await signUp(browser, "ben72");
  const mal = await signUp(browser, "mal72");
  await signUp(browser, "eve72");
  await startConversation(ana, ["ben72"]);
  const genuine = ana.url();
  await ben.getByRole("link", { name: /ana72/ }).click();
  // The server tells ana72 the same story as mal72, below.
  const eve = await lookUp(mal, "eve72");
  await swapKeys(ana, "ben72", eve, ["conversations/list"]);

  // The conversation reaches ana through the list only: pushes of new
  // conversations are dropped on her socket.
  await ana.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((frame) => {
      if (typeof frame === "string" && frame.startsWith('42["conversation-added"')) return;
      ws.send(frame);
    });
  });
  await ana.reload();
  await expect(ana.getByTestId("link-state")).toHaveText("Connected", { timeout: 15_000 });

  // The server lies to mal72, who has never seen ben72: ben72 comes with
  // eve72's keys, so mal72's app signs a genuine key set naming them.
  await swapKeys(mal, "ben72", eve, ["users/lookup", "conversations/create"]);
  await startConversation(mal, ["ana72", "ben72"], "plans");
  await send(mal, "hello both");
  // ben72, told the truth about himself, refuses the set mal72 signed.
  await expect(ben.getByRole("link", { name: /plans/ })).toContainText("epoch 0: its signature does not verify", {
    timeout: 10_000,
  });

  await ana.reload();
  const held = ana.getByRole("link", { name: /plans/ });
  await expect(held).toBeVisible({ timeout: 10_000 });
  await held.click();
  await expect(ana.locator(".conversation .key-change")).toContainText("ben72's keys have changed since you last saw them.");
  await expect(composer(ana)).toBeDisabled();
  await expect(ana.locator("li.msg")).toHaveCount(0); // nothing opened under keys not admitted
  await ana.screenshot({ path: "screenshots/pins-list-swapped-keys.png" });
  await ana.goto(genuine);
  await expect(ana.locator(".conversation .key-change")).toContainText("ben72's keys have changed");
  await expect(composer(ana)).toBeDisabled();

  // (e) Accepting re-pins ben72 to what was seen: the held conversation
  // opens, and sending works again in both.
  await ana.getByRole("button", { name: "Review the change" }).click();
  await ana.getByRole("button", { name: "Accept the new keys" }).click();
  await expect(composer(ana)).toBeEnabled();
  await send(ana, "to the real ben72");
  await expect(lastMessage(ben, "theirs")).toContainText("to the real ben72", { timeout: 10_000 });
  await ana.getByRole("link", { name: /plans/ }).click();
  await expect(lastMessage(ana, "theirs")).toContainText("hello both", { timeout: 10_000 });
  await expect(composer(ana)).toBeEnabled();
  await send(ana, "hi mal72");
  await expect(lastMessage(mal, "theirs")).toContainText("hi mal72", { timeout: 10_000 });
  for (const page of [ana, ben, mal]) await page.context().close();
});

test("(c) two members' names swapped in a signed member set: refused", async ({ browser }) => {
  const ana = await signUp(browser, "ana73");
  await signUp(browser, "ben73");
  await signUp(browser, "cyd73");
  await startConversation(ana, ["ben73", "cyd73"]);
  await ana.context().close();

  // A fresh browser: the list answers the whole conversation, rewritten.
  const again = await logIn(browser, "ana73", async (page) => {
    await page.route("**/api/conversations/list", async (route) => {
      const real = await route.fetch();
      const list = await real.json();
      for (const c of list.conversations ?? []) {
        for (const set of [c.members, ...c.epochs.map((e: { members: unknown }) => e.members)]) {
          const ben = set.find((m: { username: string }) => m.username === "ben73");
          const cyd = set.find((m: { username: string }) => m.username === "cyd73");
          [ben.username, cyd.username] = [cyd.username, ben.username];
        }
      }
      await route.fulfill({ response: real, json: list });
    });
  });
  const entry = again.getByRole("link", { name: /could not be checked/ });
  await expect(entry).toBeVisible({ timeout: 10_000 });
  await expect(entry).toContainText("epoch 0: its signature does not verify");
  await expect(again.getByText("ben73")).toHaveCount(0);
  await entry.click();
  await expect(again.locator(".conversation-problem")).toHaveText(
    "This conversation cannot be opened safely: epoch 0: its signature does not verify.",
  );
  await expect(composer(again)).toHaveCount(0);
  await again.screenshot({ path: "screenshots/pins-names-swapped.png" });
  await again.context().close();
});

test("(d) a prelogin asking for 1 PBKDF2 iteration is refused before anything is sent", async ({ browser }) => {
  await (await signUp(browser, "ana74")).context().close();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route("**/api/prelogin", async (route) => {
    const real = await route.fetch();
    await route.fulfill({ response: real, json: { ...(await real.json()), kdf_iterations: 1 } });
  });
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/") && !r.url().endsWith("/api/prelogin")) sent.push(r.url());
  });
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  await page.getByLabel("Username").fill("ana74");
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery staple");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("The server asked for unsafe key settings, so nothing was sent.")).toBeVisible();
  expect(sent).toEqual([]);
  await expect(page).not.toHaveURL(/\/chats/);
  await page.screenshot({ path: "screenshots/pins-weak-prelogin.png" });
  await context.close();
});

test("a forged copy pushed before the genuine message does not spoil it, nor one pushed after", async ({ browser }) => {
  const ana = await signUp(browser, "ana75");
  const ben = await signUp(browser, "ben75");
  await startConversation(ana, ["ben75"]);

  // ben75's socket gets, beside each genuine push, a copy with the same id
  // and altered ciphertext: before it, or after it.
  let forge: "before" | "after" | null = null;
  await ben.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((frame) => {
      if (forge && typeof frame === "string" && frame.startsWith('42["new-message"')) {
        const [, message] = JSON.parse(frame.slice(2));
        const altered = (message.ciphertext[0] === "A" ? "B" : "A") + message.ciphertext.slice(1);
        const forged = "42" + JSON.stringify(["new-message", { ...message, ciphertext: altered }]);
        for (const f of forge === "before" ? [forged, frame] : [frame, forged]) ws.send(f);
        return;
      }
      ws.send(frame);
    });
  });
  await ben.reload();
  await ben.getByRole("link", { name: /ana75/ }).click();
  await expect(ben.getByTestId("link-state")).toHaveText("Connected", { timeout: 15_000 });

  forge = "before";
  await send(ana, "one");
  await expect(lastMessage(ben, "theirs")).toContainText("one", { timeout: 10_000 });
  forge = "after";
  await send(ana, "two");
  await expect(lastMessage(ben, "theirs")).toContainText("two", { timeout: 10_000 });
  forge = null;
  await send(ana, "three");
  await expect(ben.locator("li.msg.theirs .text")).toHaveText(["one", "two", "three"], { timeout: 10_000 });
  // Time for the late forged copy to be opened and refused.
  await ben.waitForTimeout(1_000);
  await expect(ben.locator("li.msg.theirs .text")).toHaveText(["one", "two", "three"]);
  await expect(ben.locator(".bubble.unverified")).toHaveCount(0);
  for (const page of [ana, ben]) await page.context().close();
});

test("two people compare safety numbers: the same on both sides; marking one verified shows the badge", async ({ browser }) => {
  const ana = await signUp(browser, "ana76");
  const ben = await signUp(browser, "ben76");
  await startConversation(ana, ["ben76"]);
  await ben.getByRole("link", { name: /ana76/ }).click();

  const numbers: string[][] = [];
  const codes: string[] = [];
  for (const page of [ana, ben]) {
    await page.getByRole("button", { name: "Verify" }).click();
    const groups = page.locator(".safety-number li");
    await expect(groups).toHaveCount(12);
    numbers.push(await groups.allTextContents());
    codes.push(await page.locator(".safety-qr").innerHTML());
    await expect(page.locator(".safety-qr svg")).toBeVisible();
  }
  expect(numbers[0]).toEqual(numbers[1]);
  for (const group of numbers[0]) expect(group).toMatch(/^\d{5}$/);
  expect(codes[0]).toEqual(codes[1]);
  await ana.screenshot({ path: "screenshots/safety-number.png" });

  const stored = async () => (await (await ana.request.post("/api/contacts/get", { data: {} })).json()).version;
  const before = await stored();
  await ana.getByRole("button", { name: "Mark as verified" }).click();
  await expect(ana.locator(".verify-status")).toHaveText("✓ You marked ben76 as verified.");
  // The mark is written to the book kept on the server.
  await expect.poll(stored, { timeout: 10_000 }).toBeGreaterThan(before);
  await ana.getByRole("button", { name: "Close" }).click();
  const badge = ana.locator(".conversation-head .verified-badge");
  await expect(badge).toBeVisible();
  await ana.reload();
  await expect(badge).toBeVisible({ timeout: 10_000 });
  await ana.screenshot({ path: "screenshots/verified-badge.png" });
  // Not on ben76's side: marking is each person's own act.
  await ben.getByRole("button", { name: "Close" }).click();
  await expect(ben.locator(".conversation-head .verified-badge")).toHaveCount(0);

  // The book followed ana76: a fresh browser has the pin and the mark,
  // even when the book comes after the conversation was opened (a first
  // sight pinned ben76 then, unmarked).
  const again = await logIn(browser, "ana76", async (page) => {
    await page.route("**/api/contacts/get", async (route) => {
      await new Promise((done) => setTimeout(done, 1_500));
      await route.continue();
    });
  });
  await again.getByRole("link", { name: /ben76/ }).click();
  await expect(again.locator(".conversation-head .verified-badge")).toBeVisible({ timeout: 10_000 });
  await again.getByRole("button", { name: "Verify" }).click();
  await expect(again.locator(".safety-number li")).toHaveText(numbers[0]);
  await expect(again.locator(".verify-status")).toHaveText("✓ You marked ben76 as verified.");
  for (const page of [ana, ben, again]) await page.context().close();
});

test("a fresh browser catches a key the server swaps, from the book that followed the user", async ({ browser }) => {
  const ana = await signUp(browser, "ana77");
  await signUp(browser, "cyd77");
  await signUp(browser, "dan77");
  // ana77 looks cyd77 up (the first sight pins), and starts nothing: the
  // pin lives only in her contact book.
  await ana.getByRole("button", { name: "New conversation" }).click();
  await ana.getByLabel("Add people by username").fill("cyd77");
  await ana.getByRole("button", { name: "Add", exact: true }).click();
  await expect(ana.getByRole("list", { name: "People in the conversation" })).toContainText("cyd77");
  await expect.poll(async () => (await (await ana.request.post("/api/contacts/get", { data: {} })).json()).version, {
    timeout: 10_000,
  }).toBeGreaterThan(0);
  const dan = await lookUp(ana, "dan77");
  await ana.context().close();

  let synced: Promise<unknown> = Promise.resolve();
  const again = await logIn(browser, "ana77", async (page) => {
    await swapKeys(page, "cyd77", dan);
    synced = page.waitForResponse((r) => r.url().endsWith("/api/contacts/get"));
  });
  await synced;
  await again.getByRole("button", { name: "New conversation" }).click();
  await again.getByLabel("Add people by username").fill("cyd77");
  await again.getByRole("button", { name: "Add", exact: true }).click();
  await expect(again.getByRole("dialog").locator(".key-change")).toContainText("cyd77's keys have changed");
  await again.context().close();
});
