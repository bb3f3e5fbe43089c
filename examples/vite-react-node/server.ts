import { createReadStream, existsSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join } from "node:path";
import { createSessionHandler, oidc, toNodeHandler } from "sessionpulse/server";

const port = Number(process.env.PORT ?? 3001);
const production = process.env.NODE_ENV === "production";

const auth = createSessionHandler({
  secret: process.env.AUTH_SECRET!,
  // The public origin: in development the browser talks to Vite (5173), which proxies /api here.
  url: process.env.APP_URL ?? (production ? `http://localhost:${port}` : "http://localhost:5173"),
  // Your password check goes here; this example accepts one demo account.
  authorize: async ({ email, password }) => (email === "ada@example.com" && password === "correct horse" ? { id: "ada", name: "Ada Lovelace", email } : null),
  providers: process.env.OIDC_ISSUER
    ? [
        oidc({
          id: "oidc",
          name: "OpenID",
          issuer: process.env.OIDC_ISSUER,
          clientId: process.env.OIDC_CLIENT_ID!,
          clientSecret: process.env.OIDC_CLIENT_SECRET,
        }),
      ]
    : [],
});
const api = toNodeHandler(auth.handler);

const types: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
const dist = join(import.meta.dirname, "dist");

createServer((request, response) => {
  if (request.url?.startsWith("/api/auth/")) return void api(request, response);
  // Production: the built app (`npm run build`) from the same origin; in development Vite serves it.
  const path = join(dist, request.url === "/" || !extname(request.url ?? "") ? "index.html" : (request.url ?? "").split("?")[0]!);
  if (!production || !path.startsWith(dist) || !existsSync(path)) return void response.writeHead(404).end();
  response.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
  createReadStream(path).pipe(response);
}).listen(port, () => console.log(`listening on http://localhost:${port}`));
