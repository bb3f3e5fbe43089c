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
