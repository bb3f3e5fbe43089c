import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { SessionProvider } from "sessionpulse/react";
import { Account } from "./account";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <SessionProvider refetchInterval={60}>
      <h1>sessionpulse + Vite + React</h1>
      <Account />
    </SessionProvider>
  </StrictMode>,
);
