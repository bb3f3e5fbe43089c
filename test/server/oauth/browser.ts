import { expect } from "vitest";

/** A browser's cookies per origin, enough to walk a provider's pages with fetch. */
export class Browser {
  private readonly jars = new Map<string, Map<string, string>>();

  private jar(url: URL) {
    let jar = this.jars.get(url.origin);
    if (!jar) this.jars.set(url.origin, (jar = new Map<string, string>()));
    return jar;
  }

  async fetch(input: string | URL, init: RequestInit = {}, via?: (request: Request) => Promise<Response>): Promise<Response> {
    const url = new URL(input);
    const headers = new Headers(init.headers);
    const cookie = [...this.jar(url)].map(([name, value]) => `${name}=${value}`).join("; ");
    if (cookie) headers.set("cookie", cookie);
    const request = new Request(url, { ...init, headers, redirect: "manual" });
    const response = via ? await via(request) : await fetch(request);
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      if (/;\s*(Max-Age=0|expires=Thu, 01 Jan 1970)/i.test(line)) this.jar(url).delete(name);
      else this.jar(url).set(name, pair.slice(eq + 1));
    }
    return response;
  }

  cookies(origin: string) {
    return this.jar(new URL(origin));
  }
}

/** Walks the provider's login and consent pages as a user would, until it sends the browser back to `app`. */
export async function walkProvider(browser: Browser, authorizationUrl: string, app: string, login = "alice", consent = true): Promise<string> {
  let url = authorizationUrl;
  for (let step = 0; step < 12; step++) {
    if (url.startsWith(app)) return url;
    const response = await browser.fetch(url);
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get("location")!, url).href;
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form on ${url}: ${response.status} ${html.slice(0, 200)}`);
    const isLogin = html.includes('name="login"');
    if (!isLogin && !consent) {
      // Decline: the dev interactions' abort link.
      const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
      url = new URL(abort!, url).href;
      continue;
    }
    const body = isLogin ? new URLSearchParams({ prompt: "login", login, password: "any" }) : new URLSearchParams({ prompt: "consent" });
    const posted = await browser.fetch(new URL(action, url), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    url = new URL(posted.headers.get("location")!, url).href;
  }
  throw new Error("the provider never sent the browser back");
}

/** Signs `browser` in with `provider` through the app's `handler`: the redirect, the provider's pages, the callback. */
export async function signInThroughProvider(
  handler: (request: Request) => Promise<Response>,
  browser: Browser,
  app: string,
  provider: string,
  login = "alice",
) {
  const start = await browser.fetch(`${app}/api/auth/signin/${provider}?callbackUrl=${encodeURIComponent(`${app}/home`)}`, {}, handler);
  expect(start.status).toBe(302);
  const back = await walkProvider(browser, start.headers.get("location")!, app, login);
  return browser.fetch(back, {}, handler);
}
