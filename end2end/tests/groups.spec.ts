// Groups that change (#16): ana starts a group with ben and adds carl, who
// reads what follows (and only that) with the line "ana added carl"; ana
// removes ben, whose window says so and keeps what it showed, read-only;
// carl leaves, and ana's app posts the next key on its own, so her next
// message goes out under a new epoch without her doing anything.
import { expect, test } from "./guard";
import { lastMessage, send, signUp, startConversation } from "./app";
import type { Page } from "@playwright/test";
import { createHash } from "node:crypto";

/** Opens the Members dialog of the open conversation. */
async function members(page: Page) {
  await page.getByRole("button", { name: "Members" }).click();
  return page.getByRole("list", { name: "People in this conversation" });
}

/** The epoch of the newest stored message, as the server holds it. */
async function newestEpoch(page: Page, conversation: string): Promise<number> {
  const answer = await page.request.post("/api/messages/history", {
    data: { conversation_id: conversation, limit: 1 },
  });
  expect(answer.ok()).toBe(true);
  const { messages } = await answer.json();
  return messages[messages.length - 1].epoch;
}

test("people are added, removed and leave, each change a new key only the right people hold", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana16");
  const ben = await signUp(browser, "ben16");
  const carl = await signUp(browser, "carl16");

  await startConversation(ana, ["ben16"], "Road trip");
  const conversation = ana.url().split("/").pop()!;
  await send(ana, "Before carl joins");
  await ben.getByRole("link", { name: /Road trip/ }).click();
  await expect(lastMessage(ben, "theirs")).toContainText("Before carl joins");

  // ana adds carl. ben, who holds epoch 0, takes epoch 1 from the push
  // (his own key and its path up the key tree), without reading anything.
  let benReads = 0;
  ben.on("request", (request) => {
    if (request.url().includes("/api/conversations/")) benReads += 1;
  });
  const list = await members(ana);
  await expect(list).toContainText("ana16");
  await expect(list).toContainText("ben16");
  await ana.getByLabel("Add someone by username").fill("carl16");
  await ana.getByRole("button", { name: "Add", exact: true }).click();
  await expect(list).toContainText("carl16", { timeout: 10_000 });
  await ana.screenshot({ path: info.outputPath("groups-members.png") });
  await ana.getByRole("button", { name: "Done" }).click();
  await expect(ana.getByRole("note").filter({ hasText: "You added carl16" })).toBeVisible();
  await expect(ben.getByRole("note").filter({ hasText: "ana16 added carl16" })).toBeVisible();
  expect(benReads).toBe(0);

  // carl gets the conversation, the line, and what follows: not what came before.
  await carl.getByRole("link", { name: /Road trip/ }).click();
  await expect(carl.getByRole("note").filter({ hasText: "ana16 added you" })).toBeVisible();
  await expect(carl.getByText("Earlier messages are not shared with people added later.")).toBeVisible();
  await send(ana, "Welcome carl");
  await expect(lastMessage(carl, "theirs")).toContainText("Welcome carl");
  await expect(lastMessage(ben, "theirs")).toContainText("Welcome carl");
  await expect(carl.locator("li.msg")).toHaveCount(1);
  await expect(carl.getByText("Before carl joins")).toHaveCount(0);
  await carl.screenshot({ path: info.outputPath("groups-added.png") });
  expect(await newestEpoch(ana, conversation)).toBe(1);

  // ana (the creator) removes ben: his window says so, keeps what it showed, and has no composer.
  await members(ana);
  await ana.getByRole("button", { name: "Remove ben16" }).click();
  await expect(ana.getByRole("list", { name: "People in this conversation" })).not.toContainText("ben16", { timeout: 10_000 });
  await ana.getByRole("button", { name: "Done" }).click();
  await expect(ben.getByText("You were removed from this conversation.")).toBeVisible();
  await expect(ben.getByLabel("Message", { exact: true })).toHaveCount(0);
  await expect(lastMessage(ben, "theirs")).toContainText("Welcome carl");
  await expect(ana.getByRole("note").filter({ hasText: "You removed ben16" })).toBeVisible();
  await expect(carl.getByRole("note").filter({ hasText: "ana16 removed ben16" })).toBeVisible();
  await send(ana, "Just the two of us");
  await expect(lastMessage(carl, "theirs")).toContainText("Just the two of us");
  await ben.waitForTimeout(500);
  await expect(ben.getByText("Just the two of us")).toHaveCount(0);
  await ben.screenshot({ path: info.outputPath("groups-removed.png") });
  expect(await newestEpoch(ana, conversation)).toBe(2);

  // carl leaves; ana's app posts the next key without her doing anything.
  await members(carl);
  await carl.getByRole("button", { name: "Leave…" }).click();
  await carl.getByRole("button", { name: "Leave conversation" }).click();
  await expect(carl.getByText("You left this conversation.")).toBeVisible();
  await expect(ana.getByRole("note").filter({ hasText: "carl16 left" })).toBeVisible({ timeout: 10_000 });
  await send(ana, "Alone now");
  await expect(lastMessage(ana, "mine").getByTestId("tick")).toBeVisible();
  expect(await newestEpoch(ana, conversation)).toBe(3);
  await ana.screenshot({ path: info.outputPath("groups-left.png") });

  // carl deletes the conversation from this browser.
  await carl.getByRole("button", { name: "Delete from this browser" }).click();
  await expect(carl.getByRole("link", { name: /Road trip/ })).toHaveCount(0);
});

test("a message written before the app heard of a departure goes out under the next key, with the same id", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana17");
  const ben = await signUp(browser, "ben17");
  const cyd = await signUp(browser, "cyd17");
  await startConversation(ana, ["ben17", "cyd17"], "Reseal");
  const conversation = ana.url().split("/").pop()!;
  await send(ana, "All three of us");
  await cyd.getByRole("link", { name: /Reseal/ }).click();
  await expect(lastMessage(cyd, "theirs")).toContainText("All three of us");

  // ana's socket runs through a relay that withholds every
  // conversation-changed frame (a server that does not tell her), and ben
  // is away: nobody posts the next key before ana writes.
  await ana.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((frame) => {
      if (typeof frame === "string" && frame.startsWith('42["conversation-changed"')) return;
      ws.send(frame);
    });
  });
  await ana.reload();
  await expect(ana.getByTestId("link-state")).toHaveText("Connected", { timeout: 15_000 });
  await ben.close();

  await members(cyd);
  await cyd.getByRole("button", { name: "Leave…" }).click();
  await cyd.getByRole("button", { name: "Leave conversation" }).click();
  await expect(cyd.getByText("You left this conversation.")).toBeVisible();

  // ana writes under epoch 0: never stored (her app saw cyd's signed
  // departure and holds it back, or the server refuses it with
  // rekey_required); her app reads the conversation again, posts epoch 1
  // without cyd, seals the message again with the same id, and it is
  // stored under epoch 1, after cyd's departure (seq 2, not drawn).
  await send(ana, "Did cyd go?");
  const mine = lastMessage(ana, "mine");
  await expect(mine.getByTestId("tick")).toBeVisible({ timeout: 10_000 });
  await expect(mine).toHaveAttribute("data-seq", "3");
  await expect(ana.locator("li.msg.mine")).toHaveCount(2);
  await expect(ana.getByRole("note").filter({ hasText: "cyd17 left" })).toBeVisible();
  await expect(ana.locator(".failure")).toHaveCount(0);
  expect(await newestEpoch(ana, conversation)).toBe(1);
  const history = await ana.request.post("/api/messages/history", {
    data: { conversation_id: conversation, limit: 10 },
  });
  const { messages } = await history.json();
  expect(messages.map((m: { seq: number; epoch: number }) => [m.seq, m.epoch])).toEqual([
    [1, 0],
    [2, 0],
    [3, 1],
  ]);
  await ana.screenshot({ path: info.outputPath("groups-resealed.png") });
});

test("a departure the server never hears of still stops the others sending under the key the leaver holds", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana21");
  const ben = await signUp(browser, "ben21");
  const cyd = await signUp(browser, "cyd21");
  await startConversation(ana, ["ben21", "cyd21"], "Hidden");
  const conversation = ana.url().split("/").pop()!;
  await send(ana, "All three of us");
  for (const page of [ben, cyd]) {
    await page.getByRole("link", { name: /Hidden/ }).click();
    await expect(lastMessage(page, "theirs")).toContainText("All three of us");
  }

  // cyd leaves, but her `leave` never reaches the server (as if the server
  // dropped it): only her signed departure, sent as a message in epoch 0,
  // gets through, and the server goes on taking epoch 0.
  await cyd.route("**/api/conversations/leave", (route) => route.abort());
  await members(cyd);
  await cyd.getByRole("button", { name: "Leave…" }).click();
  await cyd.getByRole("button", { name: "Leave conversation" }).click();
  const status = cyd.getByRole("dialog").locator(".form-status");
  await expect(status).not.toHaveText(/^(Leaving…)?$/);
  await expect(cyd.getByText("You left this conversation.")).toHaveCount(0);
  const stored = async () => {
    const answer = await ben.request.post("/api/messages/history", {
      data: { conversation_id: conversation, limit: 10 },
    });
    return (await answer.json()).messages as { seq: number; epoch: number; sender_id: string }[];
  };
  await expect.poll(async () => (await stored()).length).toBe(2);
  const departure = (await stored())[1];
  expect(departure.epoch).toBe(0);

  // ana's and ben's apps opened it: nothing they write goes out under
  // epoch 0, which cyd still holds. It waits, and nothing is drawn for the
  // departure itself.
  await send(ana, "Is cyd still here?");
  await send(ben, "cyd?");
  await ana.waitForTimeout(2_000);
  expect((await stored()).length).toBe(2);
  await expect(lastMessage(ana, "mine").getByTestId("tick")).toHaveCount(0);
  await expect(cyd.getByText("Is cyd still here?")).toHaveCount(0);
  await expect(ana.locator("li.msg")).toHaveCount(2);
  await ana.screenshot({ path: info.outputPath("groups-departure-held.png") });

  // cyd's leave reaches the server at last: the next epoch drops her, and
  // what ana and ben wrote goes out under it, with its line "cyd21 left".
  await cyd.unroute("**/api/conversations/leave");
  await cyd.getByRole("button", { name: "Leave conversation" }).click();
  await expect(cyd.getByText("You left this conversation.")).toBeVisible();
  await expect(lastMessage(ana, "mine").getByTestId("tick")).toBeVisible({ timeout: 15_000 });
  await expect(lastMessage(ben, "theirs")).toContainText("Is cyd still here?");
  await expect(lastMessage(ana, "theirs")).toContainText("cyd?", { timeout: 15_000 });
  await expect(ana.getByRole("note").filter({ hasText: "cyd21 left" })).toBeVisible();
  const after = await stored();
  const texts = after.filter((m) => m.sender_id !== departure.sender_id);
  expect(texts.map((m) => m.epoch)).toEqual([0, 1, 1]);
  await ana.screenshot({ path: info.outputPath("groups-departure-released.png") });
});

test("a change that does not verify is refused, visibly, and nothing more is sent there", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana18");
  const ben = await signUp(browser, "ben18");
  await signUp(browser, "cyd18");
  await startConversation(ana, ["ben18", "cyd18"], "Forged");
  const conversation = ana.url().split("/").pop()!;
  const real = await (
    await ana.request.post("/api/conversations/get", { data: { conversation_id: conversation } })
  ).json();

  // A server that lies to ben: it says the conversation moved to epoch 1,
  // and pushes (and answers, if asked, as a change after epoch 0, which
  // ben holds) an epoch 1 in which cyd18 (not the creator) drops ana18,
  // who did not leave. ben's app refuses it by the removal rule, before it
  // even checks the key tree or the signature (epoch 0's, pasted).
  const genuine = real.epochs[0];
  const ids = (username: string) => genuine.members.find((m: { username: string }) => m.username === username).id;
  const [cyd, ben18] = [ids("cyd18"), ids("ben18")];
  const forged = [
    {
      epoch: 1,
      signer_id: cyd,
      commit: genuine.commit,
      keys_signature: genuine.keys_signature,
      departures: [],
      added: [],
      removed: [real.created_by],
      key_root: createHash("sha256").update("a tree of the server's own").digest().toString("base64url"),
      key: genuine.keys.find((k: { member_id: string }) => k.member_id === ben18).wrapped_key,
    },
  ];
  let inject: ((frame: string) => void) | undefined;
  await ben.routeWebSocket(/\/socket\.io\//, (ws) => {
    ws.connectToServer();
    inject = (frame) => ws.send(frame);
  });
  await ben.route("**/api/conversations/changes", async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    body.epochs = forged;
    await route.fulfill({ response, json: body });
  });
  await ben.goto(`/chats/${conversation}`);
  await expect(ben.getByTestId("link-state")).toHaveText("Connected", { timeout: 15_000 });
  await expect(ben.getByLabel("Message", { exact: true })).toBeVisible();
  const changes = { ...real, epochs: forged, pending: [] };
  delete changes.members;
  const pushed = { id: conversation, last_seq: 0, epoch: 1, changes };
  inject!(`42${JSON.stringify(["conversation-changed", pushed])}`);

  await expect(ben.locator(".conversation-problem")).toContainText("cannot be opened safely", { timeout: 10_000 });
  await expect(ben.locator(".conversation-problem")).toContainText(
    "epoch 1: a member was removed by someone other than the creator",
  );
  await expect(ben.getByLabel("Message", { exact: true })).toHaveCount(0);
  await ben.screenshot({ path: info.outputPath("groups-forged.png") });
});

test("a message sealed under a key this page has not read yet waits for it, and opens", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana19");
  const ben = await signUp(browser, "ben19");
  await signUp(browser, "cyd19");
  await startConversation(ana, ["ben19"], "Overtaken");
  await send(ana, "Before the new key");
  await ben.getByRole("link", { name: /Overtaken/ }).click();
  await expect(lastMessage(ben, "theirs")).toContainText("Before the new key");

  // ben's server does not push the change itself (only where the
  // conversation stands), and ben's reads of what changed are slow: ana's
  // next message, sealed under the new key, reaches ben's socket before
  // his read of that key does.
  await ben.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((frame) => {
      const prefix = '42["conversation-changed",';
      if (typeof frame === "string" && frame.startsWith(prefix)) {
        const [event, changed] = JSON.parse(frame.slice(2));
        delete changed.changes;
        ws.send(`42${JSON.stringify([event, changed])}`);
      } else {
        ws.send(frame);
      }
    });
  });
  await ben.reload();
  await expect(ben.getByTestId("link-state")).toHaveText("Connected", { timeout: 15_000 });
  let reads = 0;
  await ben.route("**/api/conversations/changes", async (route) => {
    reads += 1;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await route.continue();
  });
  await members(ana);
  await ana.getByLabel("Add someone by username").fill("cyd19");
  await ana.getByRole("button", { name: "Add", exact: true }).click();
  await expect(ana.getByRole("list", { name: "People in this conversation" })).toContainText("cyd19", {
    timeout: 10_000,
  });
  await ana.getByRole("button", { name: "Done" }).click();
  await send(ana, "Under the new key");
  await expect(lastMessage(ana, "mine").getByTestId("tick")).toBeVisible();

  // It waits for the key, then opens: never "could not be verified".
  await expect(lastMessage(ben, "theirs")).toContainText("Under the new key", { timeout: 10_000 });
  await expect(ben.getByText("could not be verified")).toHaveCount(0);
  await expect(ben.getByRole("note").filter({ hasText: "ana19 added cyd19" })).toBeVisible();
  // A group now: the list names who wrote last.
  await expect(ben.locator(".chat-preview")).toHaveText("ana19: Under the new key");
  expect(reads).toBeGreaterThan(0);
  await ben.screenshot({ path: info.outputPath("groups-overtaken.png") });
});
