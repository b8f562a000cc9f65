// Delivery that survives the network going away: a reader who was offline
// gets every message once, in order, without a reload (the app fetches the
// gap after reconnecting); a writer who is offline sees their messages as
// pending, keeps them across a reload made while still offline (they are
// sealed in the outbox, and the service worker serves the app), and they
// are delivered once the network is back.
import { expect, test, type Page } from "./guard";
import { lastMessage, send, signUp, startConversation } from "./app";

const linkState = (page: Page) => page.getByTestId("link-state");

test.describe.configure({ timeout: 90_000 });

async function open(page: Page, name: RegExp) {
  await page.getByRole("link", { name }).click();
  await expect(page.getByLabel("Message", { exact: true })).toBeVisible();
}

test("a reader back from offline gets all five messages, in order, once", async ({ browser }) => {
  const a = await signUp(browser, "amy92");
  const b = await signUp(browser, "bob92");
  await startConversation(a, ["bob92"]);
  await open(b, /amy92/);
  await send(a, "before");
  await expect(lastMessage(b, "theirs")).toContainText("before");

  await b.context().setOffline(true);
  await expect(linkState(b)).toHaveText("Offline", { timeout: 15_000 });
  for (let i = 1; i <= 5; i++) await send(a, `while you were away ${i}`);
  await expect(a.locator("li.msg.mine .state.pending")).toHaveCount(0, { timeout: 10_000 });
  await expect(b.locator("li.msg")).toHaveCount(1);

  await b.context().setOffline(false);
  await expect(linkState(b)).toHaveText("Connected", { timeout: 30_000 });
  const rows = b.locator("li.msg.theirs");
  await expect(rows).toHaveCount(6, { timeout: 10_000 });
  expect(await rows.locator(".text").allTextContents()).toEqual([
    "before",
    ...[1, 2, 3, 4, 5].map((i) => `while you were away ${i}`),
  ]);
  const seqs = await rows.evaluateAll((items) => items.map((li) => li.getAttribute("data-seq")));
  expect(seqs).toEqual(["1", "2", "3", "4", "5", "6"]);
  for (const page of [a, b]) await page.context().close();
});

test("messages written offline stay pending across an offline reload and are delivered later", async ({ browser }) => {
  const a = await signUp(browser, "amy93");
  const b = await signUp(browser, "bob93");
  await startConversation(a, ["bob93"]);
  await open(b, /amy93/);
  // The service worker keeps the app's shell once it controls the page.
  await a.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, { timeout: 20_000 });

  await a.context().setOffline(true);
  await expect(linkState(a)).toHaveText("Offline", { timeout: 15_000 });
  for (const text of ["one", "two", "three"]) await send(a, text);
  const pending = a.locator("li.msg.mine .state.pending");
  await expect(pending).toHaveCount(3);
  await a.screenshot({ path: "screenshots/outbox-pending-offline.png" });

  await a.reload();
  await expect(a.locator("li.msg.mine .text")).toHaveText(["one", "two", "three"], { timeout: 20_000 });
  await expect(pending).toHaveCount(3);
  await expect(b.locator("li.msg")).toHaveCount(0);

  await a.context().setOffline(false);
  await expect(a.locator("li.msg.mine .state.sent")).toHaveCount(3, { timeout: 30_000 });
  await expect(b.locator("li.msg.theirs .text")).toHaveText(["one", "two", "three"], { timeout: 10_000 });
  const seqs = await b.locator("li.msg").evaluateAll((items) => items.map((li) => li.getAttribute("data-seq")));
  expect(seqs).toEqual(["1", "2", "3"]);
  for (const page of [a, b]) await page.context().close();
});

test("a message the server refuses for good says why and can be deleted", async ({ browser }) => {
  const a = await signUp(browser, "amy94");
  await signUp(browser, "bob94");
  await startConversation(a, ["bob94"]);
  await send(a, "a normal one");
  await expect(a.locator("li.msg.mine .state.sent")).toHaveCount(1);

  // Over the server's limit of 64 KiB of ciphertext.
  const box = a.getByLabel("Message", { exact: true });
  await box.fill("x".repeat(70_000));
  await box.press("Enter");
  const failure = a.getByRole("alert").filter({ hasText: "Not sent" });
  await expect(failure).toHaveText(/Not sent: this message is too long to send\./, { timeout: 10_000 });
  await expect(a.locator("li.msg.mine .state.failed")).toHaveCount(1);
  await a.screenshot({ path: "screenshots/message-refused.png" });

  // It stays refused across a reload (it is still in the outbox) until deleted.
  await a.reload();
  await expect(failure).toBeVisible({ timeout: 10_000 });
  await failure.getByRole("button", { name: "Delete" }).click();
  await expect(a.locator("li.msg.mine")).toHaveCount(1);
  await a.reload();
  await expect(a.locator("li.msg.mine")).toHaveCount(1, { timeout: 10_000 });
  await expect(a.locator("li.msg.mine .text")).toHaveText(["a normal one"]);
  await a.context().close();
});

test("a push lost on the wire shows up with the next message, without a reload", async ({ browser }) => {
  const a = await signUp(browser, "amy95");
  const b = await signUp(browser, "bob95");
  await startConversation(a, ["bob95"]);
  await open(b, /amy95/);

  // The reader's socket runs through a relay that can drop exactly one
  // `new-message` frame on its way from the server (a push the server
  // dropped for a stalled socket looks the same to the browser).
  let armed = false;
  let dropped = 0;
  await b.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((frame) => {
      if (armed && typeof frame === "string" && frame.startsWith('42["new-message"')) {
        armed = false;
        dropped += 1;
        return;
      }
      ws.send(frame);
    });
  });
  await b.reload();
  await expect(linkState(b)).toHaveText("Connected", { timeout: 15_000 });

  await send(a, "one");
  await expect(lastMessage(b, "theirs")).toContainText("one");
  armed = true;
  await send(a, "two");
  await expect(a.locator("li.msg.mine .state.sent")).toHaveCount(2);
  await expect.poll(() => dropped).toBe(1);
  await expect(b.locator("li.msg")).toHaveCount(1);

  await send(a, "three");
  const rows = b.locator("li.msg.theirs");
  await expect(rows.locator(".text")).toHaveText(["one", "two", "three"], { timeout: 10_000 });
  const seqs = await rows.evaluateAll((items) => items.map((li) => li.getAttribute("data-seq")));
  expect(seqs).toEqual(["1", "2", "3"]);
  expect(dropped).toBe(1);
  await b.screenshot({ path: "screenshots/lost-push-recovered.png" });
  for (const page of [a, b]) await page.context().close();
});
