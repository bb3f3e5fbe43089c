import { createSessionClient } from "../../src/client/index.ts";
import { simulatedBrowser, type SimulatedBrowserOptions } from "./simulated-browser.ts";

export { createPageSignals } from "./simulated-browser.ts";

/** A simulated browser whose tabs run the client from source. */
export const createBrowser = (options?: SimulatedBrowserOptions) => simulatedBrowser(createSessionClient, options);
