import fc from "fast-check";
import { base64url, CompactEncrypt, compactDecrypt } from "jose";
import { describe, expect, it } from "vitest";
import { decryptCompact, encryptCompact, importContentKeys } from "../../../src/server/jwt/jwe-cbc-hs512.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const rawKey = crypto.getRandomValues(new Uint8Array(64));
const keys = await importContentKeys(rawKey);
const header = base64url.encode(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512", kid: "k1" }));

const joseEncrypt = (plaintext: string) =>
  new CompactEncrypt(encoder.encode(plaintext)).setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: "k1" }).encrypt(rawKey);

describe("A256CBC-HS512 on prepared keys, checked against jose", () => {
  it("jose decrypts what it encrypts, and it decrypts what jose encrypts", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 2000, unit: "binary" }), async (plaintext) => {
        const ours = await encryptCompact(keys, header, plaintext);
        expect(decoder.decode((await compactDecrypt(ours, rawKey)).plaintext)).toBe(plaintext);
        expect(await decryptCompact(keys, (await joseEncrypt(plaintext)).split("."))).toBe(plaintext);
      }),
      { numRuns: 60 },
    );
  });

  it("refuses any single flipped bit in the header, iv, ciphertext or tag", async () => {
    const token = await encryptCompact(keys, header, JSON.stringify({ sub: "u1", exp: 1 }));
    const parts = token.split(".");
    for (const index of [0, 2, 3, 4]) {
      const bytes = base64url.decode(parts[index]!);
      for (let bit = 0; bit < Math.min(bytes.length * 8, 64); bit += 7) {
        const flipped = new Uint8Array(bytes);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const tampered = [...parts];
        tampered[index] = base64url.encode(flipped);
        expect(await decryptCompact(keys, tampered)).toBeNull();
      }
    }
  });

  it("refuses wrong lengths, an encrypted key, another key and undecodable parts", async () => {
    const parts = (await encryptCompact(keys, header, "{}")).split(".");
    const other = await importContentKeys(crypto.getRandomValues(new Uint8Array(64)));
    expect(await decryptCompact(other, parts)).toBeNull();
    expect(await decryptCompact(keys, [parts[0]!, "AAAA", parts[2]!, parts[3]!, parts[4]!])).toBeNull();
    expect(await decryptCompact(keys, [parts[0]!, "", parts[2]!.slice(0, 10), parts[3]!, parts[4]!])).toBeNull();
    expect(await decryptCompact(keys, [parts[0]!, "", parts[2]!, parts[3]!, parts[4]!.slice(0, 20)])).toBeNull();
    expect(await decryptCompact(keys, [parts[0]!, "", parts[2]!, "", parts[4]!])).toBeNull();
    expect(await decryptCompact(keys, [parts[0]!, "", parts[2]!, "!!!", parts[4]!])).toBeNull();
    expect(await decryptCompact(keys, parts.slice(0, 4))).toBeNull();
  });

  it("uses a fresh IV for every token", async () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 50; i++) ivs.add((await encryptCompact(keys, header, "same")).split(".")[2]!);
    expect(ivs.size).toBe(50);
  });
});
