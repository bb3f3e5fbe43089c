import { EncryptJWT, jwtDecrypt } from "jose";
import { deriveEncryptionKey } from "./keys.js";

/**
 * Small values sealed under the secrets for one purpose, named by `salt`: encrypted and authenticated
 * (`dir` + A256CBC-HS512, the session cookie's algorithm and key derivation) with an expiry. The first
 * secret seals, every one opens (rotation); a value sealed for one purpose never opens as another, nor
 * as a session.
 */
export function createSealer(secrets: readonly string[], salt: string) {
  let keys: Promise<Uint8Array[]> | undefined;
  const keysOf = () => (keys ??= Promise.all(secrets.map(async (secret) => (await deriveEncryptionKey(secret, salt)).key)));

  return {
    async seal(payload: Record<string, unknown>, now: number, ttlSeconds: number): Promise<string> {
      const [key] = await keysOf();
      return new EncryptJWT(payload)
        .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512" })
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(now / 1000) + ttlSeconds)
        .encrypt(key!);
    },

    /** The payload, or undefined when `value` is absent, longer than `maxLength`, expired, or not sealed by these secrets for this purpose. */
    async open<T>(value: string | null | undefined, now: number, maxLength = 4096): Promise<T | undefined> {
      if (!value || value.length > maxLength) return undefined;
      for (const key of await keysOf()) {
        try {
          const { payload } = await jwtDecrypt(value, key, {
            currentDate: new Date(now),
            keyManagementAlgorithms: ["dir"],
            contentEncryptionAlgorithms: ["A256CBC-HS512"],
          });
          return payload as T;
        } catch {
          // Another key, or not ours.
        }
      }
      return undefined;
    },
  };
}
