// Reactions (#19 item 4) and padding (item 5): ben reacts to ana's message
// from the palette, both see the chip, ana reacts too, ben takes his back;
// a reload folds them again from history. To the server each reaction is a
// message like any other, and every sealed plaintext here is the same size.
import { expect, test } from "./guard";
import { lastMessage, send, signUp, startConversation } from "./app";
import type { Locator, Page } from "@playwright/test";

/** Opens the palette of `message` and picks `emoji`. */
async function react(page: Page, message: Locator, emoji: string) {
  await message.hover();
  await message.getByRole("button", { name: "React", exact: true }).click();
  await message.getByRole("button", { name: `React with ${emoji}` }).click();
}

test("a reaction shows on both sides, is taken back by its author, and tells the server nothing", async ({ browser }, info) => {
  const ana = await signUp(browser, "ana22");
  const ben = await signUp(browser, "ben22");
  await startConversation(ana, ["ben22"]);
  const conversation = ana.url().split("/").pop()!;
  await send(ana, "Lunch at noon?");
  await ben.getByRole("link", { name: /ana22/ }).click();
  const bens = lastMessage(ben, "theirs");
  await expect(bens).toContainText("Lunch at noon?");
  const anas = lastMessage(ana, "mine");
  // Stored, and read: ben has it open.
  await expect(anas.getByLabel("Read")).toBeVisible();

  // ben reacts with 👍: at once on his side, pushed to ana's.
  await react(ben, bens, "👍");
  await expect(bens.getByRole("button", { name: "👍 by ben22" })).toHaveAttribute("aria-pressed", "true");
  await expect(anas.getByRole("button", { name: "👍 by ben22" })).toHaveAttribute("aria-pressed", "false");
  await expect(anas.locator(".reaction .count")).toHaveText("1");

  // ana opens the palette (her 👍 not among hers), and adds ❤️; ben also
  // picks ❤️: one chip, two people.
  await anas.hover();
  await anas.getByRole("button", { name: "React", exact: true }).click();
  await expect(anas.getByRole("group", { name: "Reactions" }).getByRole("button")).toHaveCount(6);
  await ana.screenshot({ path: info.outputPath("reactions-palette.png") });
  await anas.getByRole("button", { name: "React", exact: true }).click();
  await expect(anas.getByRole("group", { name: "Reactions" })).toHaveCount(0);
  await react(ana, anas, "❤️");
  await react(ben, bens, "❤️");
  await expect(anas.getByRole("button", { name: "❤️ by ana22, ben22" })).toBeVisible();
  await expect(bens.getByRole("button", { name: "❤️ by ana22, ben22" })).toBeVisible();
  await ben.screenshot({ path: info.outputPath("reactions.png") });

  // ben takes his 👍 back by clicking his chip: gone on both sides; the
  // reactions are not messages in either timeline.
  await bens.getByRole("button", { name: "👍 by ben22" }).click();
  await expect(anas.getByRole("button", { name: /^👍/ })).toHaveCount(0);
  await expect(bens.getByRole("button", { name: /^👍/ })).toHaveCount(0);
  await expect(ana.locator("li.msg")).toHaveCount(1);
  await expect(ben.locator("li.msg")).toHaveCount(1);
  await expect(ana.locator(".chat-preview")).toHaveText("You: Lunch at noon?");

  // A reload folds them again from history, in seq order.
  await ben.reload();
  const again = lastMessage(ben, "theirs");
  await expect(again).toContainText("Lunch at noon?");
  await expect(again.getByRole("button", { name: "❤️ by ana22, ben22" })).toHaveAttribute("aria-pressed", "true");
  await expect(again.getByRole("button", { name: /^👍/ })).toHaveCount(0);
  await ana.screenshot({ path: info.outputPath("reactions-mine.png") });

  // To the server: five messages, each with its own seq, all the same size
  // (a text and four reactions, padded alike).
  const answer = await ana.request.post("/api/messages/history", {
    data: { conversation_id: conversation, limit: 10 },
  });
  const { messages } = await answer.json();
  expect(messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  const sizes = new Set(messages.map((m: { ciphertext: string }) => m.ciphertext.length));
  expect(sizes.size).toBe(1);
  // 256 padded bytes and the 16-byte tag, in base64url.
  expect([...sizes][0]).toBe(Math.ceil((272 * 4) / 3));
});
