import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { ADMIN_TOKEN, newKey, pickCell, postBet, startBetServer, type BetServer } from "./helpers/bets-fixture.ts";
import { requestNonce } from "./helpers/siwe.ts";

/**
 * Issue 13 item 6: every input bounded. Money fields are safe integers within documented maxima,
 * strings are well-formed Unicode, JSON routes take only JSON, a session ends no later than the
 * SIWE message's Expiration Time. Each refusal is a 4xx in the API's error shape and moves no money.
 */
const USD = 1_000_000;
const CREDIT_MAX = 1_000_000 * USD;
const BALANCE_MAX = 100_000_000 * USD;
const SESSION_TTL_MS = 3_600_000;

let server: BetServer;
let player: TestPlayer;

beforeAll(async () => {
  server = await startBetServer({ SESSION_TTL_MS, CREDIT_MAX_MICRO_USD: CREDIT_MAX, BALANCE_MAX_MICRO_USD: BALANCE_MAX });
  player = await createPlayer(server.ctx, 100 * USD);
});
afterAll(async () => {
  await server.stop();
});

const balance = (accountId: number) =>
  (server.ctx.db.prepare("SELECT balance_micro_usd AS b FROM accounts WHERE id = ?").get(accountId) as { b: number }).b;
const entryCount = () => (server.ctx.db.prepare("SELECT count(*) AS n FROM ledger_entries").get() as { n: number }).n;
const betCount = () => (server.ctx.db.prepare("SELECT count(*) AS n FROM bets").get() as { n: number }).n;

/** POST with a raw body and explicit headers (no JSON helper: the point is what the client sends). */
async function postRaw(path: string, body: string | Uint8Array, headers: Record<string, string>) {
  const res = await fetch(server.url + path, { method: "POST", body: body as BodyInit, headers });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as any };
}
const credit = (json: unknown) => postRaw("/api/admin/credit", JSON.stringify(json), { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` });

describe("money fields: safe integers within documented maxima → 400", () => {
  it("refuses an admin credit near 2^53 µUSD with 400 (was 500), and every other out-of-range amount", async () => {
    const before = { balance: balance(player.accountId), entries: entryCount() };
    const amounts = [2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e300, CREDIT_MAX + 1, -(CREDIT_MAX + 1), 1.5, "1000000"];
    for (const amountMicroUsd of amounts) {
      const kind = typeof amountMicroUsd === "number" && amountMicroUsd < 0 ? "adjustment" : "deposit";
      const r = await credit({ address: player.address, amountMicroUsd, reference: `ref-${newKey()}`, kind });
      expect(r.status, String(amountMicroUsd)).toBe(400);
      expect(r.json.error.code).toBe("invalid_request");
      expect(r.json.error.details.fields).toHaveProperty("amountMicroUsd");
    }
    // Raw JSON: 9007199254740993 is not even representable; it must not be rounded and accepted.
    const raw = await postRaw("/api/admin/credit", `{"address":"${player.address}","amountMicroUsd":9007199254740993,"reference":"r-${newKey()}"}`, {
      "content-type": "application/json",
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    expect(raw.status).toBe(400);
    expect({ balance: balance(player.accountId), entries: entryCount() }).toEqual(before);
  });

  it("accepts a credit up to the maximum, and refuses one that would take the balance above BALANCE_MAX_MICRO_USD", async () => {
    const p = await createPlayer(server.ctx, 0);
    const ok = await credit({ address: p.address, amountMicroUsd: CREDIT_MAX, reference: `ref-${newKey()}` });
    expect(ok).toEqual({ status: 200, json: { balanceMicroUsd: CREDIT_MAX } });
    // Fill up to just below the cap with maximal credits, then one more is refused.
    for (let i = 1; i < BALANCE_MAX / CREDIT_MAX; i++) {
      expect((await credit({ address: p.address, amountMicroUsd: CREDIT_MAX, reference: `ref-${newKey()}` })).status).toBe(200);
    }
    expect(balance(p.accountId)).toBe(BALANCE_MAX);
    const entries = entryCount();
    const over = await credit({ address: p.address, amountMicroUsd: 1, reference: `ref-${newKey()}` });
    expect(over.status).toBe(400);
    expect(over.json.error).toMatchObject({ code: "invalid_request", details: { balanceMicroUsd: BALANCE_MAX, balanceMaxMicroUsd: BALANCE_MAX } });
    expect([balance(p.accountId), entryCount()]).toEqual([BALANCE_MAX, entries]);
  });

  it("refuses a stake that is not a safe integer, or above the maximum, with 400 and no bet", async () => {
    const cell = await pickCell(server);
    const bets = betCount();
    for (const stakeMicroUsd of [2 ** 53 - 1, 2 ** 53, 1e21, 0.5, -1, "1000000"]) {
      const r = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd, idempotencyKey: newKey() });
      expect(r.status, String(stakeMicroUsd)).toBe(400);
      expect(r.body.error.code).toBe("invalid_request");
    }
    expect(betCount()).toBe(bets);
  });
});

describe("strings: well-formed Unicode only", () => {
  it("refuses idempotency keys with lone UTF-16 surrogates: two such keys can no longer collide into one bet", async () => {
    const cell = await pickCell(server);
    const before = { bets: betCount(), balance: balance(player.accountId) };
    // Both would read "k-???-12345" once encoded with U+FFFD: formerly the second was a "retry" of the first.
    for (const escaped of ["\\ud800", "\\udfff", "\\ud83d", "x\\ude00y"]) {
      const body = `{"col":${cell.col},"row":${cell.row},"stakeMicroUsd":${USD},"idempotencyKey":"k-${escaped}-12345"}`;
      const r = await postRaw("/api/bets", body, { "content-type": "application/json", authorization: `Bearer ${player.token}` });
      expect(r.status, escaped).toBe(400);
      expect(r.json.error).toMatchObject({ code: "invalid_request", details: { fields: { idempotencyKey: expect.any(String) } } });
    }
    expect({ bets: betCount(), balance: balance(player.accountId) }).toEqual(before);
  });

  it("accepts a key with a proper surrogate pair (an emoji), escaped or not", async () => {
    const cell = await pickCell(server);
    const key = `k-😀-${newKey()}`;
    const escaped = JSON.stringify(key).replace("😀", "\\ud83d\\ude00");
    const body = `{"col":${cell.col},"row":${cell.row},"stakeMicroUsd":${USD},"idempotencyKey":${escaped}}`;
    const r = await postRaw("/api/bets", body, { "content-type": "application/json", authorization: `Bearer ${player.token}` });
    expect(r.status).toBe(201);
    const again = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: key });
    expect(again.status).toBe(200);
    expect(again.body.bet.id).toBe(r.json.bet.id);
  });

  it("refuses bytes that are not UTF-8 (they would decode to U+FFFD) with 400", async () => {
    const cell = await pickCell(server);
    const before = betCount();
    const head = Buffer.from(`{"col":${cell.col},"row":${cell.row},"stakeMicroUsd":${USD},"idempotencyKey":"k-`);
    // CESU-8 of a lone surrogate, then a lone continuation byte.
    for (const bad of [Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x80])]) {
      const body = Buffer.concat([head, bad, Buffer.from(`-${newKey()}"}`)]);
      const r = await postRaw("/api/bets", new Uint8Array(body), { "content-type": "application/json", authorization: `Bearer ${player.token}` });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe("invalid_request");
    }
    expect(betCount()).toBe(before);
  });

  it("refuses lone surrogates in an admin credit's reference and address, and in a nonce request's address", async () => {
    const entries = entryCount();
    const ref = await postRaw("/api/admin/credit", `{"address":"${player.address}","amountMicroUsd":1,"reference":"ref-\\ud800"}`, {
      "content-type": "application/json",
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    expect([ref.status, ref.json.error.code, Object.keys(ref.json.error.details.fields)]).toEqual([400, "invalid_request", ["reference"]]);
    const addr = await postRaw("/api/admin/credit", `{"address":"\\udc00${player.address}","amountMicroUsd":1,"reference":"ref-${newKey()}"}`, {
      "content-type": "application/json",
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    expect([addr.status, addr.json.error.code]).toEqual([400, "invalid_request"]);
    const nonce = await postRaw("/api/auth/nonce", `{"address":"${player.address}\\ud800"}`, { "content-type": "application/json" });
    expect([nonce.status, nonce.json.error.code]).toEqual([400, "invalid_request"]);
    expect(entryCount()).toBe(entries);
  });
});

describe("JSON routes take only JSON: 415 unsupported_media_type", () => {
  it("refuses a bet sent as text/plain, form data or without a content type, and moves no money", async () => {
    const cell = await pickCell(server);
    const before = { bets: betCount(), balance: balance(player.accountId) };
    const body = JSON.stringify({ col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey() });
    const auth = { authorization: `Bearer ${player.token}` };
    for (const type of ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "application/json; charset=latin1"]) {
      const r = await postRaw("/api/bets", body, { ...auth, "content-type": type });
      expect(r.status, type).toBe(415);
      expect(r.json).toEqual({ error: { code: "unsupported_media_type", message: expect.any(String), details: { contentType: type } } });
    }
    // No content-type header at all (fetch adds text/plain to a string body; a byte body has none).
    const none = await postRaw("/api/bets", new TextEncoder().encode(body), auth);
    expect([none.status, none.json.error.code]).toEqual([415, "unsupported_media_type"]);
    expect({ bets: betCount(), balance: balance(player.accountId) }).toEqual(before);
    // The same body as JSON, with parameters, is a bet.
    const ok = await postRaw("/api/bets", body, { ...auth, "content-type": "Application/JSON; charset=utf-8" });
    expect(ok.status).toBe(201);
  });

  it("refuses a credit and a sign-in sent as another type", async () => {
    const creditBody = JSON.stringify({ address: player.address, amountMicroUsd: USD, reference: `ref-${newKey()}` });
    const c = await postRaw("/api/admin/credit", creditBody, { "content-type": "text/plain", authorization: `Bearer ${ADMIN_TOKEN}` });
    expect([c.status, c.json.error.code]).toEqual([415, "unsupported_media_type"]);
    const n = await postRaw("/api/auth/nonce", JSON.stringify({ address: player.address }), { "content-type": "text/plain" });
    expect([n.status, n.json.error.code]).toEqual([415, "unsupported_media_type"]);
    const v = await postRaw("/api/auth/verify", JSON.stringify({ message: "x", signature: "0x" }), { "content-type": "application/xml" });
    expect([v.status, v.json.error.code]).toEqual([415, "unsupported_media_type"]);
  });
});

describe("a session ends no later than the SIWE message's Expiration Time", () => {
  const signInWith = async (expirationTime?: Date) => {
    const account = privateKeyToAccount(generatePrivateKey());
    const { nonce } = await requestNonce(server, account.address);
    const message = createSiweMessage({
      domain: "localhost:3000",
      address: account.address,
      uri: "http://localhost:3000",
      version: "1",
      chainId: 1,
      nonce,
      issuedAt: new Date(server.clock.nowMs),
      ...(expirationTime ? { expirationTime } : {}),
    });
    const res = await server.request("/api/auth/verify", { method: "POST", json: { message, signature: await account.signMessage({ message }) } });
    expect(res.status).toBe(200);
    return (await res.json()) as { token: string; expiresAt: number };
  };

  it("a message expiring in 60 s gives a 60 s session, not SESSION_TTL_MS", async () => {
    const start = server.clock.nowMs;
    const session = await signInWith(new Date(start + 60_000));
    expect(session.expiresAt).toBe(start + 60_000);
    const me = () => server.request("/api/me", { token: session.token }).then((r) => r.status);
    try {
      server.clock.nowMs = start + 59_999;
      expect(await me()).toBe(200);
      server.clock.nowMs = start + 60_000;
      expect(await me()).toBe(401);
    } finally {
      server.clock.nowMs = start;
    }
  });

  it("without an Expiration Time, and with one beyond the TTL, the session lasts SESSION_TTL_MS", async () => {
    const start = server.clock.nowMs;
    expect((await signInWith()).expiresAt).toBe(start + SESSION_TTL_MS);
    expect((await signInWith(new Date(start + 10 * SESSION_TTL_MS))).expiresAt).toBe(start + SESSION_TTL_MS);
  });

  it("the server's own message names the session's end as its Expiration Time", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const challenge = await requestNonce(server, account.address);
    expect(challenge.expirationTime).toBe(challenge.issuedAt + SESSION_TTL_MS);
    expect(challenge.message).toContain(`Expiration Time: ${new Date(challenge.issuedAt + SESSION_TTL_MS).toISOString()}`);
  });
});
