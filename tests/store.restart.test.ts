import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { clientOf, startChildServer, type ChildServer } from "./helpers/child.ts";
import { requestNonce, signIn } from "./helpers/siwe.ts";

/**
 * Issue 15: in the embedded default (no REDIS_URL) a restart signs nobody out. The server is killed
 * with SIGKILL (no graceful close) and started again on the same DATA_DIR: the old token still
 * works, and a nonce issued before the restart still verifies, once.
 */
const children: ChildServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of children) {
    if (c.child.exitCode === null && c.child.signalCode === null) {
      c.child.kill("SIGKILL");
      await c.exited;
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<ChildServer> {
  const child = await startChildServer({ PRICE_SOURCES: "manual", ...env });
  children.push(child);
  return child;
}

async function kill(server: ChildServer): Promise<void> {
  server.child.kill("SIGKILL");
  await server.exited;
}

/** Signs in, asks for a second nonce (signed but not yet sent), kills the server and starts it again. */
async function signInThenRestart(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-store-restart-"));
  dirs.push(dataDir);
  const first = await start({ ...env, DATA_DIR: dataDir });
  const player = await signIn(clientOf(first));
  const pending = privateKeyToAccount(generatePrivateKey());
  const { message } = await requestNonce(clientOf(first), pending.address);
  const signature = await pending.signMessage({ message });
  await kill(first);
  const second = await start({ ...env, DATA_DIR: dataDir });
  return { api: clientOf(second), player, pendingSignIn: { message, signature } };
}

describe("sessions and nonces across a restart (embedded default)", () => {
  it("keeps the session and the unconsumed nonce on disk: old token works, old nonce verifies exactly once", async () => {
    const { api, player, pendingSignIn } = await signInThenRestart({});
    const me = await api.request("/api/me", { token: player.token });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { address: string }).address).toBe(player.address);

    const verify = await api.request("/api/auth/verify", { method: "POST", json: pendingSignIn });
    expect(verify.status).toBe(200);
    const again = await api.request("/api/auth/verify", { method: "POST", json: pendingSignIn });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("nonce_unknown");
  });

  it("with SESSION_STORE=memory the same restart signs the player out (what the disk store prevents)", async () => {
    const { api, player, pendingSignIn } = await signInThenRestart({ SESSION_STORE: "memory" });
    expect((await api.request("/api/me", { token: player.token })).status).toBe(401);
    const verify = await api.request("/api/auth/verify", { method: "POST", json: pendingSignIn });
    expect(verify.status).toBe(401);
  });
});
