import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { signIn } from "./helpers/siwe.ts";

describe("auth: sign-in round trip", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("signs in with a viem-signed message and answers /api/me", async () => {
    const { token, address, account } = await signIn(server);
    expect(address).toBe(account.address);
    const me = await server.request("/api/me", { token });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ address, balanceMicroUsd: 1_000_000_000, openBets: 0 });
  });
});
