import type { Session } from "../../shared/session.js";
import type { ResolvedConfig } from "../config.js";
import { SessionServerError } from "../errors.js";
import type { JWT, User } from "../types.js";
import { MANAGED_CLAIMS } from "./record.js";
import { iso } from "./time.js";

/** The claims a sign-in starts from, before the `jwt` callback (Auth.js's default token). */
export function claimsOf(user: User): Omit<JWT, "iat" | "exp" | "jti"> {
  return {
    sub: String(user.id),
    ...(user.name !== undefined && { name: user.name }),
    ...(user.email !== undefined && { email: user.email }),
    ...(user.image !== undefined && { picture: user.image }),
  };
}

async function runCallback<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    throw new SessionServerError("callback_error", `the ${name} callback threw`, { cause });
  }
}

/**
 * Runs the `jwt` callback, restoring the managed claims (`sub`, `iat`, `exp`,
 * `jti`, `sid`, `auth_time`, `gen`): a callback that merges `update` data into
 * the token cannot change the user or the lifetime. Returns the shaped token
 * and whether it changed, or `null` when the callback ended the session.
 */
export async function shapeToken(
  config: ResolvedConfig,
  token: JWT,
  params: { user?: User; trigger?: "signIn" | "update"; session?: unknown },
): Promise<{ token: JWT; changed: boolean } | null> {
  const callback = config.callbacks.jwt;
  if (!callback) return { token, changed: false };
  const before = JSON.stringify(token);
  const result = await runCallback("jwt", () => callback({ token: structuredClone(token), ...params }));
  if (result === null || typeof result !== "object") return null;
  const shaped: Record<string, unknown> = Object.assign({}, result);
  for (const claim of MANAGED_CLAIMS) {
    if (token[claim] === undefined) delete shaped[claim];
    else shaped[claim] = token[claim];
  }
  return { token: shaped as JWT, changed: JSON.stringify(shaped) !== before };
}

/**
 * The public session: Auth.js's default shape, then the `session` callback.
 * Without a callback it answers at once rather than through a promise: this
 * is on every `GET /session`.
 */
export function toSession(config: ResolvedConfig, token: JWT, params: { trigger?: "update"; newSession?: unknown } = {}): Session | Promise<Session> {
  const user: Session["user"] = {};
  if (token.sub !== undefined) user.id = token.sub;
  if (token.name !== undefined) user.name = token.name;
  if (token.email !== undefined) user.email = token.email;
  if (token.picture !== undefined) user.image = token.picture;
  const session: Session = { user, expires: iso(token.exp * 1000) };
  const callback = config.callbacks.session;
  if (!callback) return session;
  return runCallback("session", () => callback({ session, token, ...params }));
}
