// Wire helpers for tests that speak the API directly (not through the app):
// base64url bytes and UUID v7 ids, as DESIGN.md's contract spells them.
import { randomBytes } from "node:crypto";

/** Base64url without padding, as the wire wants every byte field. */
export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** `n` random bytes, base64url. */
export function random(n: number): string {
  return b64(randomBytes(n));
}

/** A UUID v7: 48-bit Unix milliseconds, version 7, variant 10, the rest random. */
export function uuidV7(): string {
  const b = randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
