import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireService } from "./helpers/services.ts";
import type { TestServer } from "./helpers/server.ts";
import { startBehindNginx, type NginxStack } from "./helpers/nginx-stack.ts";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";

/**
 * Issue 13 item 6 through the deployed path: the bad inputs of tests/inputs.bounds.test.ts sent to
 * nginx (the repository's config, rendered for this machine) reach the app unchanged and are
 * refused by it in the API's error shape — nginx neither rewrites the content type nor re-encodes
 * the bytes, and no refusal is a 5xx.
 */
const hasNginx = requireService("nginx");
const ADMIN_TOKEN = "admin-token-for-inputs-nginx-test";

describe.runIf(hasNginx)("bad inputs through nginx", () => {
  let app: TestServer;
  let base: string;
  let player: TestPlayer;

  let stack: NginxStack | undefined;

  beforeAll(async () => {
    stack = await startBehindNginx({ ADMIN_TOKEN });
    ({ app, base } = stack);
    player = await createPlayer(app.ctx, 100_000_000);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const post = async (path: string, body: string | Uint8Array, headers: Record<string, string>) => {
    const res = await fetch(base + path, { method: "POST", body: body as BodyInit, headers });
    return { status: res.status, json: (await res.json()) as { error: { code: string; details?: Record<string, unknown> } } };
  };
  const entries = () => (app.ctx.db.prepare("SELECT count(*) AS n FROM ledger_entries").get() as { n: number }).n;

  it("a JSON route called with another content type → 415 unsupported_media_type", async () => {
    const bet = JSON.stringify({ col: 1, row: 1, stakeMicroUsd: 1_000_000, idempotencyKey: "k-nginx-0001" });
    const r = await post("/api/bets", bet, { "content-type": "text/plain", authorization: `Bearer ${player.token}` });
    expect([r.status, r.json.error.code]).toEqual([415, "unsupported_media_type"]);
    const n = await post("/api/auth/nonce", JSON.stringify({ address: player.address }), { "content-type": "application/x-www-form-urlencoded" });
    expect([n.status, n.json.error.code]).toEqual([415, "unsupported_media_type"]);
  });

  it("lone UTF-16 surrogates and bytes that are not UTF-8 → 400 invalid_request", async () => {
    const json = { "content-type": "application/json", authorization: `Bearer ${player.token}` };
    const escaped = await post("/api/bets", '{"col":1,"row":1,"stakeMicroUsd":1000000,"idempotencyKey":"k-\\ud800-nginx"}', json);
    expect([escaped.status, escaped.json.error.code]).toEqual([400, "invalid_request"]);
    expect(escaped.json.error.details).toEqual({ fields: { idempotencyKey: expect.any(String) } });
    const raw = Buffer.concat([Buffer.from('{"col":1,"row":1,"stakeMicroUsd":1000000,"idempotencyKey":"k-'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('-nginx"}')]);
    const bytes = await post("/api/bets", new Uint8Array(raw), json);
    expect([bytes.status, bytes.json.error.code]).toEqual([400, "invalid_request"]);
    const address = await post("/api/auth/nonce", `{"address":"${player.address}\\udc00"}`, { "content-type": "application/json" });
    expect([address.status, address.json.error.code]).toEqual([400, "invalid_request"]);
  });

  it("an admin credit near 2^53 µUSD → 400, not 500, and moves nothing", async () => {
    const before = entries();
    const admin = { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` };
    for (const amount of ["9007199254740991", "9007199254740993", "1e300"]) {
      const r = await post("/api/admin/credit", `{"address":"${player.address}","amountMicroUsd":${amount},"reference":"ref-nginx-${amount}"}`, admin);
      expect([r.status, r.json.error.code], amount).toEqual([400, "invalid_request"]);
    }
    const ref = await post("/api/admin/credit", `{"address":"${player.address}","amountMicroUsd":1,"reference":"ref-\\ud800"}`, admin);
    expect([ref.status, ref.json.error.code]).toEqual([400, "invalid_request"]);
    expect(entries()).toBe(before);
  });
});
