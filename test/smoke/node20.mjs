// Loads the built package on the system Node (20 on the project's machines)
// and drives a full sign-in → session → sign-out round trip through it.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSessionClient } from "../../dist/index.js";
import { createSessionHandler, SessionConfigError } from "../../dist/server.js";

const origin = "http://localhost:3000";
const auth = createSessionHandler({
  secret: "smoke-test-secret-0123456789abcdefghijkl",
  authorize: (credentials) => (credentials.password === "pw" ? { id: "u1", name: "Smoke" } : null),
});

/** A browser of one: keeps the cookies `handler` sets and sends them back on every call. */
function browserOf(handler) {
  const cookies = new Map();
  const call = async (path, init = {}) => {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await handler(new Request(`${origin}/api/auth${path}`, { ...init, headers: { cookie, origin, ...init.headers } }));
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      if (/Max-Age=0/.test(line)) cookies.delete(pair.slice(0, eq));
      else cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return response;
  };
  return { cookies, call };
}

const { cookies, call } = browserOf(auth.handler);

let passed = 0;
let skipped = 0;
/** A check returns a `skip(note)` when something it needs is missing here. */
const skip = (note) => ({ skipped: note });
async function check(name, run) {
  const outcome = await run();
  if (outcome?.skipped) {
    skipped++;
    console.log(`  SKIPPED ${name}: ${outcome.skipped}`);
    return;
  }
  passed++;
  console.log(`  ok ${name}`);
}

await check("signed out: null", async () => assert.equal(await (await call("/session")).json(), null));
const { csrfToken } = await (await call("/csrf")).json();
await check("sign in", async () => {
  const response = await call("/callback/credentials", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-auth-return-redirect": "1" },
    body: new URLSearchParams({ password: "pw", csrfToken }),
  });
  assert.equal(response.status, 200);
  assert.ok(cookies.has("authjs.session-token"));
});
await check("session", async () => assert.equal((await (await call("/session")).json()).user.name, "Smoke"));
await check("sign out", async () => {
  const response = await call("/signout", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ csrfToken }) });
  assert.equal(response.status, 302);
  assert.equal(await (await call("/session")).json(), null);
});
await check("short secret refused", async () => assert.throws(() => createSessionHandler({ secret: "short" }), SessionConfigError));
await check("client without a DOM talks to the server", async () => {
  // No window: Node 20 has BroadcastChannel but no Web Locks, so clients link through the broadcast-channel
  // package (loaded on demand); this one, alone, is elected. fetch goes straight to the handler.
  const client = createSessionClient({ basePath: `${origin}/api/auth`, fetch: (url, init) => auth.handler(new Request(url, init)) });
  const stop = client.subscribe(() => {});
  const snapshot = await client.refresh();
  assert.equal(snapshot.status, "unauthenticated");
  for (let waited = 0; !client.getSnapshot().isLeader && waited < 5_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(client.getSnapshot().isLeader, true);
  stop();
  client.destroy();
});
await check("the SQLite store explains a driver this runtime cannot run, instead of crashing", async () => {
  const { sqliteStore } = await import("../../dist/server/sqlite.js");
  const hasNodeSqlite = typeof process.getBuiltinModule === "function" && process.getBuiltinModule("node:sqlite") !== undefined;
  const betterSqlite3 = JSON.parse(readFileSync(new URL("../../node_modules/better-sqlite3/package.json", import.meta.url), "utf8")).version;
  const store = sqliteStore({ path: ":memory:", driver: hasNodeSqlite ? "node:sqlite" : "auto" });
  if (hasNodeSqlite || Number(process.versions.napi) >= 10 || Number.parseInt(betterSqlite3, 10) < 13) {
    assert.equal(await store.get("0".repeat(64), Date.now()), null);
  } else {
    // Node 20 with the devDependency better-sqlite3 13: its N-API 10 binary would segfault at `new Database`.
    await assert.rejects(store.get("0".repeat(64), Date.now()), /better-sqlite3 13\.\d+\.\d+ needs Node 22 or later.*better-sqlite3@12/s);
  }
  await store.close();
});
await check("a database-strategy server on SQLite through better-sqlite3 12, the Node 20 driver", async () => {
  const modulePath = process.env.SESSIONPULSE_NODE20_BETTER_SQLITE3;
  if (!modulePath) {
    const note =
      'SESSIONPULSE_NODE20_BETTER_SQLITE3 is not set; build it with: export SESSIONPULSE_NODE20_BETTER_SQLITE3="$(scripts/node20-better-sqlite3.sh)"';
    if (process.env.SESSIONPULSE_REQUIRE_SERVICES === "1") assert.fail(`${note} (SESSIONPULSE_REQUIRE_SERVICES=1, so this fails instead of skipping)`);
    return skip(note);
  }
  const Database = createRequire(import.meta.url)(modulePath);
  const { sqliteStore } = await import("../../dist/server/sqlite.js");
  const dir = mkdtempSync(join(tmpdir(), "sessionpulse-node20-"));
  const store = sqliteStore({ database: new Database(join(dir, "sessions.db")) });
  const server = createSessionHandler({
    secret: "smoke-test-secret-0123456789abcdefghijkl",
    session: { strategy: "database" },
    store,
    authorize: (credentials) => (credentials.password === "pw" ? { id: "u2", name: "Twenty" } : null),
  });
  const { cookies: jar, call: send } = browserOf(server.handler);
  try {
    const { csrfToken: token } = await (await send("/csrf")).json();
    const signedIn = await send("/callback/credentials", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-auth-return-redirect": "1" },
      body: new URLSearchParams({ password: "pw", csrfToken: token }),
    });
    assert.equal(signedIn.status, 200);
    assert.match(jar.get("authjs.session-token"), /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await (await send("/session")).json()).user.name, "Twenty");
    const [listed] = await (await send("/sessions")).json();
    assert.equal(listed.current, true);
    const revoked = await send("/sessions/revoke", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ csrfToken: token, all: true }),
    });
    assert.equal(revoked.status, 200);
    assert.equal(await (await send("/session")).json(), null);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
await check("the React entry stays a client module", async () => {
  assert.ok(readFileSync(new URL("../../dist/react.js", import.meta.url), "utf8").startsWith('"use client";'));
});
console.log(`node ${process.version}: ${passed} smoke checks passed${skipped ? `, ${skipped} skipped` : ""}`);
