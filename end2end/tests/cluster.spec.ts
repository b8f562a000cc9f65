// Two nodes sharing one database and one Redis (playwright.config.ts starts
// both): ann37 signs up and chats on the first, bob37 on the second, and
// each sees the other's messages at once, as if they were on one server.
import { expect, test } from "./guard";
import { lastMessage, send, signUp, startConversation } from "./app";

const second = `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 3107) + 1}`;

test("ann37 on one node and bob37 on another chat as if on one server", async ({ browser }) => {
  const ann = await signUp(browser, "ann37");
  const bob = await signUp(browser, "bob37", { baseURL: second });
  expect(new URL(bob.url()).origin).toBe(second);

  // The conversation ann37 starts through her node appears in bob37's
  // list on his, without a reload.
  await startConversation(ann, ["bob37"]);
  const entry = bob.getByRole("link", { name: /ann37/ });
  await expect(entry).toBeVisible();
  await entry.click();
  await expect(bob.getByRole("heading", { name: "ann37" })).toBeVisible();

  await send(ann, "Hello from the first node");
  const received = lastMessage(bob, "theirs");
  await expect(received).toContainText("Hello from the first node", { timeout: 1_000 });
  await expect(received).toHaveAttribute("data-sender", "ann37");
  await expect(received).toHaveAttribute("data-seq", "1");

  await send(bob, "And back from the second");
  const reply = lastMessage(ann, "theirs");
  await expect(reply).toContainText("And back from the second", { timeout: 1_000 });
  await expect(reply).toHaveAttribute("data-sender", "bob37");
  await expect(reply).toHaveAttribute("data-seq", "2");
  // Stored and read: ann37's message shows bob37 read it, told across nodes.
  await expect(lastMessage(ann, "mine").getByLabel("Read")).toBeVisible();
  await bob.screenshot({ path: "screenshots/cluster-second-node.png" });
});
