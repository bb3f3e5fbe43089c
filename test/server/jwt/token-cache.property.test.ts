import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createSessionHandler, memoryStore, type SessionHandler, type Store } from "../../../src/server/index.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { CookieJar, SECRET, recordingLogger } from "../helpers.ts";

/**
 * "A cache hit never returns a session that the same request without the
 * cache would refuse", searched for counterexamples: two handlers over one
 * store and one clock, the same options but one with the verified-token cache
 * (default, or bounds small enough to evict) and one without. Random sequences
 * of sign-ins (some over a session), copies of cookies kept and replayed
 * (stale copies are what a cache keeps longest), reads (GET /session and
 * getSession), sign-outs, "sign out everywhere" and "other devices", key
 * rotations and retirements, and clock advances (just inside and past
 * updateAge, exp and its tolerance, a session's maxLifetime end). Every read goes to both
 * handlers with the same cookie, and they must agree: the same status, the
 * same body, and the same kind of cookie change (none, re-issued, cleared).
 * A `session` callback counts into a nested claim of the token it is given:
 * every answer says 1, as every request works on a token of its own (each hit
 * parses the cached plaintext anew; besides, the `jwt` callback is handed a
 * clone, so a cache sharing parsed claims would not show here today).
 *
 * Runs: SESSIONPULSE_PROPERTY_RUNS (default 200); `npm run test:deep` runs more.
 * A failure prints its seed: SESSIONPULSE_PROPERTY_SEED=<seed> replays it.
 */

const RUNS = Number(process.env.SESSIONPULSE_PROPERTY_RUNS ?? 200);
const MAX_AGE = 3600;
const UPDATE_AGE = 600;
const START = Date.UTC(2026, 11, 2, 12);
const ORIGIN = "http://localhost:3000";
const COOKIE = "authjs.session-token";

type CacheOption = NonNullable<SessionHandlerConfig["jwt"]>["cache"];

interface World {
  store: Store;
  now: number;
  secrets: string[];
  maxLifetime: number | undefined;
  cache: CacheOption;
  withStore: boolean;
  cached: SessionHandler;
  plain: SessionHandler;
  jars: CookieJar[];
  /** When each jar's session was signed in (a copy inherits it): where its maxLifetime ends. */
  signedInAt: Map<CookieJar, number>;
  coverage: Coverage;
}

interface Coverage {
  granted: number;
  refused: number;
  /** Reads the cached handler answered without decrypting where the other decrypted: hits. */
  hitsGranted: number;
  /** Hits refused all the same (expired, past maxLifetime, revoked): the checks a hit must not skip. */
  hitsRefused: number;
}

/** Decryptions so far, counted at Web Crypto (the prepared-key path calls it once per token it opens). */
let decrypts = () => 0;
beforeAll(() => {
  const spy = vi.spyOn(crypto.subtle, "decrypt");
  decrypts = () => spy.mock.calls.length;
});
afterAll(() => {
  vi.restoreAllMocks();
});

function build(world: World): void {
  const make = (cache: CacheOption) =>
    createSessionHandler({
      secret: world.secrets,
      ...(world.withStore && { store: world.store }),
      session: { maxAge: MAX_AGE, updateAge: UPDATE_AGE, maxLifetime: world.maxLifetime },
      jwt: { cache },
      clock: () => world.now,
      logger: recordingLogger().logger,
      callbacks: {
        jwt: ({ token, trigger }) => (trigger === "signIn" ? { ...token, profile: { reads: 0 } } : token),
        // Mutates a nested claim of the token it was given: only a fresh token per request answers 1 every time.
        session: ({ session, token }) => {
          const profile = token.profile as { reads: number } | undefined;
          if (profile) profile.reads += 1;
          return { ...session, reads: profile?.reads };
        },
      },
      authorize: async (credentials) => (typeof credentials.user === "string" ? { id: credentials.user, name: credentials.user } : null),
    });
  world.cached = make(world.cache);
  world.plain = make(false);
}

const url = (path: string) => `${ORIGIN}/api/auth${path}`;

async function send(handler: SessionHandler, jar: CookieJar, path: string, body?: unknown) {
  const headers: Record<string, string> = { cookie: jar.header() };
  if (body !== undefined) Object.assign(headers, { "content-type": "application/json", origin: ORIGIN });
  const response = await handler.handler(
    new Request(url(path), { method: body === undefined ? "GET" : "POST", headers, body: body === undefined ? null : JSON.stringify(body) }),
  );
  const text = await response.text();
  return { response, status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
}

async function csrfOf(handler: SessionHandler, jar: CookieJar): Promise<string> {
  const { response, body } = await send(handler, jar, "/csrf");
  jar.apply(response);
  return (body as { csrfToken: string }).csrfToken;
}

/** What an answer did to the session cookie: the values differ (each handler mints its own jti), the kind must not. */
function cookieChange(response: Response): string {
  const lines = response.headers.getSetCookie().filter((line) => line.startsWith(COOKIE));
  return lines.map((line) => (/;\s*Max-Age=0\b/i.test(line) ? "cleared" : "set")).join(",") || "none";
}

type Command = fc.AsyncCommand<World, World>;
const jarPick = fc.nat();
const pickJar = (world: World, pick: number) => world.jars[pick % world.jars.length]!;
/** Which handler a state-changing step goes through: the other one sees it through the store. */
const via = fc.constantFrom("cached" as const, "plain" as const);

class SignIn implements Command {
  constructor(
    readonly user: number,
    readonly over: number | null,
    readonly through: "cached" | "plain",
  ) {}
  check = () => true;
  async run(_: World, world: World) {
    const jar = this.over === null || world.jars.length === 0 ? new CookieJar() : pickJar(world, this.over);
    const handler = world[this.through];
    const csrfToken = await csrfOf(handler, jar);
    const { response, status } = await send(handler, jar, "/callback/credentials", { csrfToken, user: `user-${this.user}`, json: true });
    expect(status).toBe(200);
    jar.apply(response);
    world.signedInAt.set(jar, world.now);
    if (!world.jars.includes(jar)) world.jars.push(jar);
  }
  toString = () => `SignIn(user ${this.user}, over ${this.over}, ${this.through})`;
}

class Copy implements Command {
  constructor(readonly jar: number) {}
  check = (world: Readonly<World>) => world.jars.length > 0;
  async run(_: World, world: World) {
    const copy = new CookieJar();
    const from = pickJar(world, this.jar);
    for (const [name, value] of from.cookies) copy.cookies.set(name, value);
    world.signedInAt.set(copy, world.signedInAt.get(from)!);
    world.jars.push(copy);
  }
  toString = () => `Copy(${this.jar})`;
}

/** The same read to both handlers; they must agree. `keep`: the jar takes the cached handler's answer (else a replay). */
class Read implements Command {
  constructor(
    readonly jar: number,
    readonly times: number,
    readonly keep: boolean,
    readonly getSession: boolean,
  ) {}
  check = (world: Readonly<World>) => world.jars.length > 0;
  async run(_: World, world: World) {
    const jar = pickJar(world, this.jar);
    for (let i = 0; i < this.times; i++) {
      if (this.getSession) {
        const request = () => new Request(url("/session"), { headers: { cookie: jar.header() } });
        const [expected, actual] = [await world.plain.getSession(request()), await world.cached.getSession(request())];
        expect(actual, `${this.toString()}: getSession`).toEqual(expected);
        world.coverage[expected ? "granted" : "refused"]++;
        continue;
      }
      const before = decrypts();
      const expected = await send(world.plain, jar, "/session");
      const between = decrypts();
      const actual = await send(world.cached, jar, "/session");
      if (between - before === 1 && decrypts() === between) world.coverage[expected.body ? "hitsGranted" : "hitsRefused"]++;
      expect({ status: actual.status, body: actual.body, cookie: cookieChange(actual.response) }, `${this.toString()}, read ${i + 1}`).toEqual({
        status: expected.status,
        body: expected.body,
        cookie: cookieChange(expected.response),
      });
      world.coverage[expected.body ? "granted" : "refused"]++;
      if (this.keep) jar.apply(actual.response);
    }
  }
  toString = () => `Read(jar ${this.jar}, ×${this.times}, ${this.keep ? "kept" : "replayed"}${this.getSession ? ", getSession" : ""})`;
}

/** Every jar read once, kept or replayed: right after a revocation or a time jump, each cached copy is put to the test. */
class ReadAll implements Command {
  constructor(readonly keep: boolean) {}
  check = (world: Readonly<World>) => world.jars.length > 0;
  async run(model: World, world: World) {
    for (let jar = 0; jar < world.jars.length; jar++) await new Read(jar, 1, this.keep, false).run(model, world);
  }
  toString = () => `ReadAll(${this.keep ? "kept" : "replayed"})`;
}

/** The step, sometimes followed by a read of every jar. */
const maybeProbed = (step: fc.Arbitrary<Command>) =>
  fc.tuple(step, fc.option(fc.boolean(), { nil: null })).map(([command, keep]) =>
    keep === null
      ? command
      : ({
          check: (world: Readonly<World>) => command.check(world),
          run: async (model: World, world: World) => {
            await command.run(model, world);
            await new ReadAll(keep).run(model, world);
          },
          toString: () => `${String(command)}, then ReadAll(${keep ? "kept" : "replayed"})`,
        } satisfies Command),
  );

class SignOut implements Command {
  constructor(
    readonly jar: number,
    readonly through: "cached" | "plain",
  ) {}
  check = (world: Readonly<World>) => world.jars.length > 0;
  async run(_: World, world: World) {
    const jar = pickJar(world, this.jar);
    const handler = world[this.through];
    const csrfToken = await csrfOf(handler, jar);
    const { response } = await send(handler, jar, "/signout", { csrfToken, json: true });
    jar.apply(response);
  }
  toString = () => `SignOut(jar ${this.jar}, ${this.through})`;
}

class Revoke implements Command {
  constructor(
    readonly jar: number,
    readonly target: "all" | "others",
    readonly through: "cached" | "plain",
  ) {}
  check = (world: Readonly<World>) => world.jars.length > 0;
  async run(_: World, world: World) {
    const jar = pickJar(world, this.jar);
    const handler = world[this.through];
    const csrfToken = await csrfOf(handler, jar);
    const { response } = await send(handler, jar, "/sessions/revoke", { csrfToken, [this.target]: true });
    jar.apply(response);
  }
  toString = () => `Revoke(jar ${this.jar}, ${this.target}, ${this.through})`;
}

class Advance implements Command {
  constructor(readonly seconds: number) {}
  check = () => true;
  async run(_: World, world: World) {
    world.now += this.seconds * 1000;
  }
  toString = () => `Advance(${this.seconds} s)`;
}

/**
 * To a jar's maxLifetime end, plus `offset` seconds: the expiry is capped at the lifetime's end, so
 * just past it only the lifetime rule refuses (the expiry is still inside the clock tolerance).
 */
class AdvanceToLifetime implements Command {
  constructor(
    readonly jar: number,
    readonly offset: number,
  ) {}
  check = (world: Readonly<World>) => world.maxLifetime !== undefined && world.jars.length > 0;
  async run(_: World, world: World) {
    const end = world.signedInAt.get(pickJar(world, this.jar))! + world.maxLifetime! * 1000 + this.offset * 1000;
    world.now = Math.max(world.now, end);
  }
  toString = () => `AdvanceToLifetime(jar ${this.jar}, ${this.offset >= 0 ? "+" : ""}${this.offset} s)`;
}

/** A new secret first (rotation), or the oldest one dropped (retirement): both handlers are made anew, as an app restarts with a new config. */
class Keys implements Command {
  constructor(readonly change: "rotate" | "retire") {}
  check = (world: Readonly<World>) => this.change === "rotate" || world.secrets.length > 1;
  async run(_: World, world: World) {
    if (this.change === "rotate") world.secrets = [`${SECRET}-rotated-${world.now}-${world.secrets.length}`, ...world.secrets];
    else world.secrets = world.secrets.slice(0, -1);
    build(world);
  }
  toString = () => `Keys(${this.change})`;
}

const advance = maybeProbed(
  fc
    .constantFrom(1, 10, UPDATE_AGE - 1, UPDATE_AGE + 1, MAX_AGE - UPDATE_AGE, MAX_AGE - 20, MAX_AGE + 1, MAX_AGE + 14, MAX_AGE + 16, MAX_AGE + 60, 5400, 7200)
    .map((seconds) => new Advance(seconds)),
);
const read = fc
  .tuple(jarPick, fc.constantFrom(1, 2, 3), fc.boolean(), fc.boolean(), fc.boolean())
  .map(([jar, times, keep, a, b]) => new Read(jar, times, keep, a && b));
const commands = fc.commands(
  [
    fc.tuple(fc.constantFrom(0, 1), fc.option(jarPick, { nil: null }), via).map(([user, over, through]) => new SignIn(user, over, through)),
    fc.tuple(fc.constantFrom(0, 1), fc.option(jarPick, { nil: null }), via).map(([user, over, through]) => new SignIn(user, over, through)),
    jarPick.map((jar) => new Copy(jar)),
    jarPick.map((jar) => new Copy(jar)),
    read,
    read,
    read,
    read,
    fc.boolean().map((keep) => new ReadAll(keep)),
    maybeProbed(fc.tuple(jarPick, via).map(([jar, through]) => new SignOut(jar, through))),
    maybeProbed(fc.tuple(jarPick, fc.constantFrom("all" as const, "others" as const), via).map(([jar, target, through]) => new Revoke(jar, target, through))),
    advance,
    advance,
    advance,
    maybeProbed(fc.tuple(jarPick, fc.constantFrom(-1, 0, 5, 14)).map(([jar, offset]) => new AdvanceToLifetime(jar, offset))),
    fc.constantFrom("rotate" as const, "retire" as const).map((change) => new Keys(change)),
  ],
  { maxCommands: 40, size: "max" },
);

const worlds = fc.record({
  maxLifetime: fc.option(fc.constantFrom(5400, 2 * 3600), { nil: undefined }),
  // The default bounds, or small ones that evict under the runs' few dozen tokens.
  cache: fc.constantFrom<CacheOption>(true, { maxEntries: 2 }, { maxBytes: 2500 }),
  withStore: fc.constantFrom(true, true, false),
});

async function explore(numRuns: number, seed?: number): Promise<Coverage> {
  const coverage: Coverage = { granted: 0, refused: 0, hitsGranted: 0, hitsRefused: 0 };
  let run = 0;
  await fc.assert(
    fc.asyncProperty(worlds, commands, async (setup, sequence) => {
      run++;
      const world = {
        store: memoryStore(),
        now: START + run * 86_400_000,
        secrets: [SECRET],
        ...setup,
        jars: [],
        signedInAt: new Map(),
        coverage,
      } as unknown as World;
      build(world);
      await fc.asyncModelRun(() => ({ model: world, real: world }), sequence);
    }),
    { numRuns, ...(seed !== undefined && { seed }) },
  );
  return coverage;
}

describe("the verified-token cache changes no answer (model-based)", () => {
  it(`over ${RUNS} random sequences of sign-ins, copies, repeat reads, revocations, key changes and time`, { timeout: 600_000 }, async () => {
    const replay = process.env.SESSIONPULSE_PROPERTY_SEED;
    const coverage = await explore(RUNS, replay === undefined ? undefined : Number(replay));
    if (process.env.SESSIONPULSE_PROPERTY_STATS) console.log("token cache", coverage);
  });

  it("the generator is not vacuous: on a fixed seed, sessions are granted and refused, from the cache too", async () => {
    const coverage = await explore(100, 20261202);
    for (const [what, count] of Object.entries(coverage)) expect(count, `no run reached "${what}"`).toBeGreaterThan(20);
  });
});
