import { test as base } from "@playwright/test";
import { OwnServer } from "./own-server";

/**
 * Tests on a server of their own (see OwnServer): `page` and `request` go to it. Its
 * configuration can be set per file with `test.use({ ownEnv: { … } })`.
 */
export const test = base.extend<{ own: OwnServer; ownEnv: Record<string, string> }>({
  ownEnv: [{}, { option: true }],
  own: async ({ ownEnv }, use, testInfo) => {
    // The PostgreSQL project's own servers run on PostgreSQL too.
    const postgres = testInfo.project.name.endsWith("-postgres");
    const server = await OwnServer.start(ownEnv, postgres);
    await use(server);
    await server.dispose();
  },
  baseURL: async ({ own }, use) => {
    await use(own.baseURL);
  },
});

export { expect } from "@playwright/test";
