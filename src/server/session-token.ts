import { base64url } from "jose";

/** A database session token: 256 random bits, base64url (43 characters). */
export const DATABASE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function newDatabaseToken(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
}

/** The store key of a database token: its SHA-256 in hex. The token itself is never stored. */
export async function storeIdOf(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
