import type { ReactNode } from "react";
import { headers } from "next/headers";
import { auth } from "../auth";
import { Providers } from "./providers";

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Read on the server, so the first render is already signed in: no loading flash, no request on mount.
  const session = await auth.getSession(await headers());
  return (
    <html lang="en">
      <body>
        <Providers session={session}>{children}</Providers>
      </body>
    </html>
  );
}
