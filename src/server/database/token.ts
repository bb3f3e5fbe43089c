import { sha256 } from "@noble/hashes/sha2.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { base64url } from "jose";

/** A database session token: 256 random bits, base64url (43 characters). */
export const DATABASE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function newDatabaseToken(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * The store key of a database token: its SHA-256 in hex. The token itself is
 * never stored. Hashed in JavaScript (@noble/hashes) rather than with
 * `crypto.subtle.digest`: this runs on every request, and Node sends each
 * Web Crypto call to its thread pool, which costs ~50 times the hash of 43 bytes.
 * A token is ASCII, where each character is its own UTF-8 byte: copied
 * directly, since a `TextEncoder` call costs half the hash on this path.
 */
export function storeIdOf(token: string): string {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    if (code > 0x7f) return bytesToHex(sha256(new TextEncoder().encode(token)));
    bytes[i] = code;
  }
  return bytesToHex(sha256(bytes));
}

const textBytes = (text: string) => new TextEncoder().encode(text);

/**
 * The database token a JWT session becomes after a switch to the database
 * strategy (`migrateFrom: "jwt"`): derived from the session id under a key of
 * the server's, so every copy of that JWT, and every request racing to convert
 * it, lands on the same row instead of minting one each (a thousand replays
 * of one cookie made a thousand rows). Unpredictable without the secret. The
 * key comes from the last secret in the rotation list, the one a rotation
 * (which puts the new secret first) leaves in place longest.
 */
export function convertedDatabaseToken(secrets: readonly string[]): (sessionId: string) => string {
  const key = hkdf(sha256, textBytes(secrets[secrets.length - 1]!), textBytes("sessionpulse.migration"), textBytes("sessionpulse JWT to database session"), 32);
  return (sessionId) => base64url.encode(hmac(sha256, key, textBytes(sessionId)));
}
