// The browser's WebCrypto implementation of hush-v1 against the committed
// vectors, which an independent implementation produced (the native twin is
// checked against the same file by `cargo test`).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "./guard";

const vectorsText = readFileSync(join(__dirname, "../../tests/vectors/hush-v1.json"), "utf8");

async function selfTest(page: import("@playwright/test").Page, json: string): Promise<number> {
  return page.evaluate(async (text) => {
    // The app's script, by the hashed name the page links it under.
    const script = document.querySelector<HTMLLinkElement>('link[rel="modulepreload"][href^="/pkg/hush."]');
    const app = await import(script!.href);
    return (await app.hush_v1_self_test(text)) as number;
  }, json);
}

test("WebCrypto computes every hush-v1 vector, byte for byte", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  const v = JSON.parse(vectorsText);
  const expected =
    3 * v.password_to_keys.length +
    3 * v.identity_wrap.length +
    2 * v.content_key_wrap.length +
    5 * v.keys_signature.length +
    4 * v.message_seal.length +
    v.padding.lengths.length +
    v.padding.refused.length +
    v.signature_verify.length +
    v.aead_negative.length +
    4 * v.contact_book.length +
    3 * v.safety_number.length +
    2 * v.keys_signature_negative.length +
    v.kdf_params_negative.length;
  expect(await selfTest(page, vectorsText)).toBe(expected);
});

test("the self test notices a single altered byte", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  const v = JSON.parse(vectorsText);
  const c: string = v.message_seal[0].ciphertext;
  v.message_seal[0].ciphertext = (c[0] === "A" ? "B" : "A") + c.slice(1);
  await expect(selfTest(page, JSON.stringify(v))).rejects.toThrow(/self test failed: ciphertext/);
});
