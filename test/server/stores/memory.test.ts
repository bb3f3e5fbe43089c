import { memoryStore } from "../../../src/server/index.ts";
import { describeStoreConformance } from "./conformance.ts";

describeStoreConformance("memoryStore", async () => {
  let store = memoryStore();
  return {
    get store() {
      return store;
    },
    async reset() {
      store = memoryStore();
    },
  };
});
