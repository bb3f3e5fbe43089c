import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { base64url } from "jose";

/** A database session token: 256 random bits, base64url (43 characters). */
export const DATABASE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

const encoder = new TextEncoder();

export function newDatabaseToken(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * The store key of a database token: its SHA-256 in hex. The token itself is
 * never stored. Hashed in JavaScript (@noble/hashes) rather than with
 * `crypto.subtle.digest`: this runs on every request, and Node sends each
 * Web Crypto call to its thread pool, which costs ~50 times the hash of 43 bytes.
 */
export function storeIdOf(token: string): string {
  return bytesToHex(sha256(encoder.encode(token)));
}
