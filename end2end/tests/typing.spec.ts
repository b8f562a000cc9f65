// Typing (#19): ana types and ben sees "ana20 is typing…" in the
// conversation and in his list; it goes when her message arrives, and six
// seconds after she stops.
import { expect, test } from "./guard";
import { lastMessage, send, signUp, startConversation } from "./app";

test("typing shows in the conversation and the list, and goes with the message or after a pause", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana20");
  const ben = await signUp(browser, "ben20");
  await startConversation(ana, ["ben20"], "Chatter");
  await send(ana, "Hi ben");
  await ben.getByRole("link", { name: /Chatter/ }).click();
  await expect(lastMessage(ben, "theirs")).toContainText("Hi ben");

  // (Writing "Hi ben" said she was typing: a socket says it at most every
  // two seconds.)
  await ana.waitForTimeout(2_100);
  const composer = ana.getByLabel("Message", { exact: true });
  await composer.pressSequentially("Are you", { delay: 30 });
  const line = ben.locator("p.typing");
  await expect(line).toHaveText("ana20 is typing…");
  await expect(ben.locator(".chat-preview.typing")).toHaveText("ana20 is typing…");
  await ben.screenshot({ path: info.outputPath("typing.png") });
  // ana sees nobody typing: her own typing is not shown to her.
  await expect(ana.locator("p.typing")).toHaveText("");

  // Her message arrives: the line goes at once.
  await composer.pressSequentially(" there?");
  await composer.press("Enter");
  await expect(lastMessage(ben, "theirs")).toContainText("Are you there?");
  await expect(line).toHaveText("");
  await expect(ben.locator(".chat-preview")).toHaveText("Are you there?");

  // She types and stops: gone about six seconds later.
  await ana.waitForTimeout(2_100);
  await composer.pressSequentially("Hm");
  await expect(line).toHaveText("ana20 is typing…");
  const shown = Date.now();
  await expect(line).toHaveText("", { timeout: 10_000 });
  const gone = Date.now() - shown;
  expect(gone).toBeGreaterThan(4_000);
  expect(gone).toBeLessThan(8_000);
});

// Several typing at once in a group: the server relays the first at once
// and those within the next second together, in one event naming them
// all (server::typing); each app shows everyone named but its own user.
test("two typing at once in a group both show, and nobody sees their own typing", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana26");
  const ben = await signUp(browser, "ben26");
  const cyd = await signUp(browser, "cyd26");
  await startConversation(ana, ["ben26", "cyd26"], "Trio");
  await send(ana, "Hi both");
  for (const page of [ben, cyd]) {
    await page.getByRole("link", { name: /Trio/ }).click();
    await expect(lastMessage(page, "theirs")).toContainText("Hi both");
  }
  // A quiet room: no relay in the last second, no socket in its two.
  await ana.waitForTimeout(2_100);
  await Promise.all([
    ben.getByLabel("Message", { exact: true }).pressSequentially("Hey", { delay: 30 }),
    cyd.getByLabel("Message", { exact: true }).pressSequentially("Yo", { delay: 30 }),
  ]);
  await expect(ana.locator("p.typing")).toHaveText(/^(ben26 and cyd26|cyd26 and ben26) are typing…$/);
  await ana.screenshot({ path: info.outputPath("two-typing.png") });
  await expect(ben.locator("p.typing")).toHaveText("cyd26 is typing…");
  await expect(cyd.locator("p.typing")).toHaveText("ben26 is typing…");
});
