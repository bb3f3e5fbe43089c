import { base64url } from "jose";

/**
 * `dir` + `A256CBC-HS512` compact JWE (RFC 7516, RFC 7518 §5.2.2) on keys
 * imported once. jose imports both keys and creates a throwaway HMAC key for
 * the tag comparison on every call, which costs more than the cryptography;
 * the session cookie is decrypted on every request, so this path does the same
 * operations on prepared keys. It serves only the one header shape the server
 * itself writes; every other token goes through jose and its allow-lists
 * (see codec.ts), and tests cross-check both directions against jose.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The two halves of a 64-byte A256CBC-HS512 key, imported for Web Crypto. */
export interface ContentKeys {
  /** HMAC-SHA-512 over the first 32 bytes. */
  mac: CryptoKey;
  /** AES-256-CBC over the last 32 bytes. */
  aes: CryptoKey;
}

export async function importContentKeys(key: Uint8Array): Promise<ContentKeys> {
  const [mac, aes] = await Promise.all([
    crypto.subtle.importKey("raw", key.slice(0, 32), { name: "HMAC", hash: "SHA-512" }, false, ["sign"]),
    crypto.subtle.importKey("raw", key.slice(32, 64), "AES-CBC", false, ["encrypt", "decrypt"]),
  ]);
  return { mac, aes };
}

/** The authentication tag: the first 32 bytes of HMAC-SHA-512(AAD ‖ IV ‖ ciphertext ‖ AAD length in bits as 64-bit big-endian). */
async function tagOf(keys: ContentKeys, aad: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  const input = new Uint8Array(aad.length + iv.length + ciphertext.length + 8);
  input.set(aad, 0);
  input.set(iv, aad.length);
  input.set(ciphertext, aad.length + iv.length);
  new DataView(input.buffer).setBigUint64(input.length - 8, BigInt(aad.length) * 8n);
  return new Uint8Array(await crypto.subtle.sign("HMAC", keys.mac, input), 0, 32);
}

/** Compares in time independent of where the bytes differ. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/** Encrypts `plaintext` under `encodedHeader` (the base64url protected header, which is also the AAD). */
export async function encryptCompact(keys: ContentKeys, encodedHeader: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-CBC", iv }, keys.aes, encoder.encode(plaintext)));
  const tag = await tagOf(keys, encoder.encode(encodedHeader), iv, ciphertext);
  return `${encodedHeader}..${base64url.encode(iv)}.${base64url.encode(ciphertext)}.${base64url.encode(tag)}`;
}

/**
 * Authenticates, then decrypts, a compact JWE whose header the caller has
 * already checked. Returns the plaintext, or null when the tag, the lengths or
 * the padding are wrong. Never decrypts before the tag has been verified.
 */
export async function decryptCompact(keys: ContentKeys, parts: readonly string[]): Promise<string | null> {
  const [encodedHeader, encryptedKey, ivPart, ciphertextPart, tagPart] = parts;
  if (parts.length !== 5 || encryptedKey !== "") return null;
  let iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array;
  try {
    iv = base64url.decode(ivPart!);
    ciphertext = base64url.decode(ciphertextPart!);
    tag = base64url.decode(tagPart!);
  } catch {
    return null;
  }
  if (iv.length !== 16 || tag.length !== 32 || ciphertext.length === 0 || ciphertext.length % 16 !== 0) return null;
  const expected = await tagOf(keys, encoder.encode(encodedHeader), iv, ciphertext);
  if (!constantTimeEqual(expected, tag)) return null;
  try {
    return decoder.decode(await crypto.subtle.decrypt({ name: "AES-CBC", iv: new Uint8Array(iv) }, keys.aes, new Uint8Array(ciphertext)));
  } catch {
    return null;
  }
}
