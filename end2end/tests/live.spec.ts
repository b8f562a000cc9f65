// The live conversation (#19): unread counts in the list and the title,
// ticks that turn ✓✓ when the other has read, "Seen by" in a group, the
// online dot that goes out when the other closes the tab, read receipts
// turned off (reciprocal), and a desktop notification while the tab is
// hidden, without the text when previews are off.
import { expect, test } from "./guard";
import { lastMessage, send, signUp, startConversation } from "./app";

test("unread counts, the title, ✓✓, online status, and receipts turned off", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana23");
  const ben = await signUp(browser, "ben23");
  await startConversation(ana, ["ben23"]);

  // Ben is online: a dot on his avatar and "online" in the header.
  await expect(ana.getByTestId("presence")).toBeVisible({ timeout: 10_000 });
  await expect(ana.locator(".chat-item").getByTestId("online-dot")).toBeVisible();

  await send(ana, "one");
  await send(ana, "two");
  await expect(lastMessage(ana, "mine").getByTestId("tick")).toHaveAttribute("aria-label", "Sent");

  // Ben has not opened it: two unread, in the list and the title.
  const item = ben.locator(".chat-item", { hasText: "ana23" });
  await expect(item.getByTestId("unread")).toHaveText("2");
  await expect(ben).toHaveTitle("(2) Chats · Hush");
  await expect(item.getByTestId("online-dot")).toBeVisible();
  await ben.screenshot({ path: info.outputPath("unread.png") });

  // He opens it: the count and the title clear, and ana sees ✓✓.
  await item.click();
  await expect(lastMessage(ben, "theirs")).toContainText("two");
  await expect(item.getByTestId("unread")).toHaveCount(0);
  await expect(ben).toHaveTitle("Chats · Hush");
  const ticks = ana.locator("li.msg.mine").getByTestId("tick");
  await expect(ticks).toHaveText(["✓✓", "✓✓"]);
  await expect(ticks.last()).toHaveAttribute("aria-label", "Read");
  await ana.screenshot({ path: info.outputPath("read.png") });

  // Ben turns read receipts off: ana's next message stays ✓ though he
  // reads it at once, and he no longer sees that she read his.
  await ben.getByRole("button", { name: /Account/ }).click();
  await ben.getByRole("button", { name: "Settings" }).click();
  const receipts = ben.getByRole("checkbox", { name: /Read receipts/ });
  await expect(receipts).toBeChecked();
  await receipts.uncheck();
  await expect(receipts).not.toBeChecked();
  await ben.screenshot({ path: info.outputPath("settings.png") });
  await ben.getByRole("button", { name: "Done" }).click();
  await send(ana, "three");
  await expect(lastMessage(ben, "theirs")).toContainText("three");
  await ana.waitForTimeout(1_500);
  await expect(lastMessage(ana, "mine").getByTestId("tick")).toHaveText("✓");
  await send(ben, "got them");
  await expect(lastMessage(ana, "theirs")).toContainText("got them");
  await ben.waitForTimeout(1_500);
  await expect(lastMessage(ben, "mine").getByTestId("tick")).toHaveText("✓");

  // Ben closes his tab: after a few seconds' grace, ana sees him offline.
  await ben.context().close();
  await expect(ana.getByTestId("presence")).toHaveCount(0, { timeout: 15_000 });
  await expect(ana.locator(".chat-item").getByTestId("online-dot")).toHaveCount(0);
});

test("in a group, the last message says who has seen it", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana24");
  const ben = await signUp(browser, "ben24");
  const cyd = await signUp(browser, "cyd24");
  await startConversation(ana, ["ben24", "cyd24"], "Trio");
  await send(ana, "hello both");
  const seen = ana.getByTestId("seen-by");
  await expect(seen).toHaveCount(0);
  await ben.getByRole("link", { name: /Trio/ }).click();
  await expect(lastMessage(ben, "theirs")).toContainText("hello both");
  await expect(seen).toHaveText("Seen by ben24");
  await expect(lastMessage(ana, "mine").getByTestId("tick")).toHaveText("✓");
  await cyd.getByRole("link", { name: /Trio/ }).click();
  await expect(seen).toHaveText(/^Seen by (ben24, cyd24|cyd24, ben24)$/);
  await expect(lastMessage(ana, "mine").getByTestId("tick")).toHaveText("✓✓");
  await ana.screenshot({ path: info.outputPath("seen-by.png") });
});

test("a hidden tab raises a notification naming who wrote, without the text unless previews are on", async ({ browser }) => {
  const ana = await signUp(browser, "ana25");
  const ben = await signUp(browser, "ben25", { permissions: ["notifications"] });
  // Record every notification the app raises.
  await ben.evaluate(() => {
    const Real = window.Notification;
    const raised: { title: string; body?: string }[] = [];
    (window as any).raised = raised;
    const Recorded = function (title: string, options?: NotificationOptions) {
      raised.push({ title, body: options?.body });
      return new Real(title, options);
    } as any;
    Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
    Recorded.requestPermission = () => Real.requestPermission();
    (window as any).Notification = Recorded;
  });
  await startConversation(ana, ["ben25"]);
  await send(ana, "before");
  await expect(ben.locator(".chat-item", { hasText: "ana25" })).toBeVisible();

  // Nothing is asked on page load; ben turns notifications on.
  await ben.getByRole("button", { name: /Account/ }).click();
  await ben.getByRole("button", { name: "Settings" }).click();
  await ben.getByRole("checkbox", { name: /Desktop notifications/ }).check();
  await expect(ben.getByRole("checkbox", { name: /Show message text/ })).toBeEnabled();
  await ben.getByRole("button", { name: "Done" }).click();

  // A visible tab raises none; a hidden one does.
  await send(ana, "while visible");
  await expect(ben.locator(".chat-item", { hasText: "ana25" })).toContainText("while visible");
  const hide = () =>
    ben.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
  await hide();
  await send(ana, "secret plans");
  await expect.poll(() => ben.evaluate(() => (window as any).raised)).toEqual([{ title: "ana25", body: "New message" }]);

  // Previews on: the text shows.
  await ben.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await ben.getByRole("button", { name: /Account/ }).click();
  await ben.getByRole("button", { name: "Settings" }).click();
  await ben.getByRole("checkbox", { name: /Show message text/ }).check();
  await ben.getByRole("button", { name: "Done" }).click();
  await hide();
  await send(ana, "see you at 8");
  await expect
    .poll(() => ben.evaluate(() => (window as any).raised.length))
    .toBe(2);
  expect(await ben.evaluate(() => (window as any).raised[1])).toEqual({ title: "ana25", body: "see you at 8" });
});
